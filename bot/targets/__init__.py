"""A child's targets between reviews: recorded by staff (with history), shared with each carer in
their language, and checked in on with the family on the school's rhythm (bot/targets/checkins.py).
"""
