"""Messages to and from parents: storing what arrives, rendering and storing what goes out,
delivering it once at the right hour on the right channel, and following its status.

`channel.py` is the interface providers implement (bot/channels/ holds the providers).
"""
