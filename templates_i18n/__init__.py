"""Every message the bot sends, one YAML file per language, and the code that reads them.

`catalog` loads and checks the files; `text` is the normalisation keyword and answer-word
matching share. Imports nothing from bot/ or flows/: both build on it.
"""
