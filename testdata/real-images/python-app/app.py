"""A minimal service: configuration comes from the environment at run time."""
import os

from flask import Flask

app = Flask(__name__)


@app.route("/healthz")
def healthz():
    return "ok"


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "8080")))
