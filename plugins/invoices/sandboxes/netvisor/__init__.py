"""A local Netvisor: the five resources the plugin uses, with demo invoices and fault injection.

``app`` serves them (MAC-checked, Netvisor's XML shapes from ``answers``), ``state`` holds
what clients changed and the faults tests inject, ``data`` the Finnish demo records,
``pdf`` draws the invoice images and ``server`` runs it in a thread for tests.
"""
