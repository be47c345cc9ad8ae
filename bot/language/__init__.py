"""Languages: detecting what a parent wrote in, the catalogue rendered for parents and staff,
STOP/START/HELP keywords, and the checks CI runs on the catalogue."""
