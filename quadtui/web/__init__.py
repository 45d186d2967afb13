"""The web server behind ``quadtui --serve`` (textual-serve underneath): sessions, limits, our page.

Imports textual-serve (and aiohttp) at module level: import it only when serving.
"""
