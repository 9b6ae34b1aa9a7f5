"""HTML pages. (A minimal overview for now; the full site is issue #4.)"""

from flask import Blueprint, render_template

from .db import get_db
from .vocabulary import KINDS

bp = Blueprint("views", __name__)


@bp.get("/")
def index():
    """What the directory holds, by kind and source."""
    db = get_db()
    # Peer support first; professional treatment (complementary, not peer-run) last.
    kinds = db.query(
        "select kind, count(*) as n from resources where status = 'active' "
        "group by kind order by kind = 'treatment', n desc"
    )
    sources = db.query(
        "select s.id, s.name, s.attribution, s.license, s.last_imported, count(r.id) as n "
        "from sources s left join resources r on r.source = s.id and r.status = 'active' "
        "group by s.id order by s.name"
    )
    return render_template("index.html", kinds=list(kinds), sources=list(sources), kind_names=KINDS)
