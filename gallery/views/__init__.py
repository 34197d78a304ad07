"""The app's views, by area: pages, studio (the job form and jobs), community, account, moderation, errors.

Helpers more than one module uses live in helpers.py; view modules import helpers, never each other.
"""
