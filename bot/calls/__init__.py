"""Phone calls: the second channel, for families who cannot read a text in any language.

placing.py  the place_call job, retries and quiet hours (the database is the schedule), the sweep
status.py   the provider's reports on a call (answered, busy, no answer, voicemail)
prompts.py  what a call says in a language: a provider voice, or a staff recording (signed URL)
ivr.py      each step of a call: the message, the menu, recordings, call-back requests, flows by phone
inbound.py  calls to the school's number: greeting, language menu, latest message, leave a message
staff_prompts.py  staff recording a prompt by phone (the school rings them; the recording is kept)
"""
