"""Dispenser screens, one module each: attract -> service grid -> green channel -> ticket.

    attract   the hall's name, the clock, 请触摸屏幕取号 (``AttractScreen``)
    grid      the services as cards, paged, paused when the printer cannot print (``GridScreen``)
    priority  the green-channel step (``PriorityScreen``)
    ticket    the number, people ahead, where to go, the print state and reprint (``TicketScreen``)

Screens show what ``kiosk.terminal.Terminal`` returns and forward taps to it; they hold no queue,
printing or pause rules. Work that can block (grid refresh with a printer status query, printing)
runs off the UI thread.
"""
