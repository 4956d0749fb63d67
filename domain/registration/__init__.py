"""Registration applications (R1, R2, R18): opening, resubmitting, activating and closing them."""
