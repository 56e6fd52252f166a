// Live updates of a class overview come with the class stream; this file
// is served so the pages' CSP (script-src 'self') has one place for them.
