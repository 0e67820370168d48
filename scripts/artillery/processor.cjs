// Artillery hooks for mixed.yml (CommonJS: Artillery loads processors with require).

/** Stores the next page's path from the RFC 8288 Link header, or the first page again on the last page. */
function captureNext(_req, res, context, _events, next) {
  const match = /<([^>]+)>;\s*rel="next"/.exec(res.headers.link || "");
  context.vars.next = match ? match[1] : "/todos?limit=100";
  return next();
}

/** Loop condition: keep polling while the command is still pending. */
function notApplied(context, next) {
  return next(context.vars.status === "pending" || context.vars.status === undefined);
}

module.exports = { captureNext, notApplied };
