"""Appointments (预约): bookable slots per service, 6-digit check-in codes, the check-in rule.

The core of it has no web framework and no Kivy: the hall server keeps the bookings
(``store.AppointmentStore``), a terminal keeps a copy of today's for offline check-in
(``kiosk.appointments.local``), and both apply the same rule (``rules.judge``).

Privacy: an appointment never stores an ID number or a full name. A name is kept masked
(王*明); an ID number only as ``kiosk.idcard.person_key`` under the hall's secret.
"""

from .rules import (AppointmentError, AppointmentSettings, CheckinVerdict, ServiceSlots, Slot, judge,
                    parse_slot, slots_for)

__all__ = ["AppointmentError", "AppointmentSettings", "CheckinVerdict", "ServiceSlots", "Slot", "judge",
           "parse_slot", "slots_for"]
