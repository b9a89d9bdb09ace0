"""Hardware behind small interfaces, each with a fake: printer, keys, voice."""
