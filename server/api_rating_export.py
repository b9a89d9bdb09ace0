"""``GET /api/v1/ratings/export``: the 好差评 export of one hall (format: docs/haochaping-export.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from . import rating_export
from .halls import hall_runtime
from .api_ratings import FromQ, ToQ, _range, store, supervisor

router = APIRouter(prefix="/api/v1", tags=["ratings"])


@router.get("/ratings/export", tags=["ratings"], response_class=Response,
            summary="好差评 export: every rating with its follow-up (核实, 整改, 回访), one flat record each; "
                    "CSV (UTF-8 with BOM) or JSON, fields as in docs/haochaping-export.md",
            responses={200: {"content": {"text/csv": {}, "application/json": {}}}})
def export(request: Request, date_from: FromQ = None, date_to: ToQ = None,
           format: Annotated[Literal["csv", "json"], Query(description="csv (default) or json")] = "csv",
           principal=Depends(supervisor)) -> Response:
    rt = hall_runtime(request)
    start, end = _range(request, date_from, date_to)
    rs, hall = store(request), rt.queue().hall
    names = rating_export.names_for(rt.db, hall, rt.guide_files()[1])
    records = rating_export.export_records(rs, names, start, end)
    name = f"haochaping-{hall.code}-{start}-{end}"
    if format == "json":
        return JSONResponse(rating_export.json_body(records, hall, start, end),
                            headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    return Response(rating_export.csv_text(records), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
