"""SEND reviews: scheduling, moving and cancelling them, the reminder plan, and sending reminders when due."""
