"""A parent's side of the conversation: acting on their messages in order (keywords, language,
question flows), the flows the school runs with them, and staff stepping in.
"""
