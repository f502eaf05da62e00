"""A local Netvisor written from Netvisor's published documents, with demo invoices and faults.

``protocol`` checks a request's headers and MAC by the documented algorithm, ``answers``
writes the documented XML shapes, ``app`` serves the five resources the plugin uses with
their documented parameters, ``state`` holds what clients changed and the faults tests
inject, ``data`` the Finnish demo records, ``pdf`` draws the invoice images and ``server``
runs it in a thread for tests. The sources are named in each module's docstring.

It imports nothing of the plugin's Netvisor client (an import-linter contract holds it to
that): a sandbox written from our own client would only prove that we agree with
ourselves. Tests point the client at it the way production points it at Netvisor.
"""
