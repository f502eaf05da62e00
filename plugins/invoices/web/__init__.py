"""The plugin's pages and its ``/api/v1/invoices`` routes, with their templates.

``pages`` serves the queue (Lähettämättömät laskut) with its "send all clean", search, the
end-of-day summary and one invoice; ``actions`` the forms on them (dispatch, confirm,
retry, cancel, Korjattava, resolve, the Finvoice download, the admin's texts), answered with
the htmx action panel or a redirect; ``api`` and ``api_actions`` the same over JSON;
``slots`` what the plugin puts inside the core's pages (ticket sidebar, user page, the 15:00
alert); ``display`` the helpers the templates call. Templates live in
``templates/invoices/``, found before the core's; ``static/`` is served under
``/static/plugins/invoices/`` once it exists.

May import: the rest of the plugin (but never the sandboxes) and the core's web layer
(deps, templating), models, service errors and i18n. Only ``hooks.py`` imports this package.
"""
