"""The wire layer: pure, no sockets and no event loop.

Models, routes and name rules, the cattrs converter, errors decoded from
``(status, headers, body)``, and the settings values every other layer reads.
"""
