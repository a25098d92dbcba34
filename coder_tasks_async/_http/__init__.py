"""The HTTP layer: one ``aiohttp`` session, timeouts, retries, redirects and logging.

It knows nothing of tasks: it sends a method and a path and hands back the response.
"""
