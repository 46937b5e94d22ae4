from flask import Flask, request

from . import repo
from .columns import sort_column

app = Flask(__name__)


@app.get("/items")
def items():
    rows = repo.list_items(repo.connect(), sort_column(request.args.get("sort")))
    return {"items": rows}
