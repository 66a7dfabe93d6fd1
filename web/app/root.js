// Run by web/index.html: the page lives in app/; a link to web/ (such as one shared before the page
// moved there) goes on to it with its query (?weights=) and hash (#p=...) intact.
location.replace(new URL('app/' + location.search + location.hash, location.href));
