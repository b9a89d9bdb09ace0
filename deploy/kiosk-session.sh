#!/bin/sh
# The kiosk box's session (deploy/kiosk-terminal.service): cage showing the app, and the app's exit
# status passed on to systemd.
#
#     sh kiosk-session.sh APP [ARG...]
#
# Debian 12's cage 0.1.4 ends with 0 whatever its app returned, so the unit's
# RestartPreventExitStatus=75 ("exit for maintenance" from the settings screen) would never match
# and the terminal would come back 3 s later. The app's status is written to a file by a shell
# between cage and the app, and this script exits with it (cage's own status when there is none:
# cage failed, or the app was killed with that shell).
set -u
folder=${STATE_DIRECTORY:-${TMPDIR:-/tmp}}
rm -f "$folder"/app-exit.*  # one session at a time: what a stop by signal left behind
status_file=$(mktemp "$folder/app-exit.XXXXXX") || exit 1
trap 'rm -f "$status_file"' EXIT
cage -d -- /bin/sh -c '"$@"; echo $? > "$0"' "$status_file" "$@"
cage_status=$?
app_status=$(cat "$status_file" 2>/dev/null)
exit "${app_status:-$cage_status}"
