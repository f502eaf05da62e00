"""The ASGI application object uvicorn serves (``helpdesk.web.main:app``)."""

from helpdesk.web.app import create_app

app = create_app()
