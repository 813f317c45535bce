package pycheck

// Python 2's names under their Python 3 forms.

// py2Modules are Python 2 modules under their Python 3 names.
var py2Modules = map[string]string{
	"ConfigParser": "configparser", "urllib2": "urllib.request", "urlparse": "urllib.parse", "cookielib": "http.cookiejar",
	"Queue": "queue", "StringIO": "io (io.StringIO)", "cStringIO": "io (io.StringIO)", "cPickle": "pickle",
	"commands": "subprocess", "httplib": "http.client", "HTMLParser": "html.parser", "SocketServer": "socketserver",
	"__builtin__": "builtins", "thread": "_thread", "md5": "hashlib", "sha": "hashlib", "sets": "nothing: set is built in",
	"exceptions": "nothing: exceptions are built in", "Tkinter": "tkinter", "xmlrpclib": "xmlrpc.client",
	"anydbm": "dbm", "robotparser": "urllib.robotparser", "BaseHTTPServer": "http.server",
	"SimpleHTTPServer": "http.server", "Cookie": "http.cookies", "htmlentitydefs": "html.entities", "copy_reg": "copyreg",
	"UserDict": "collections", "popen2": "subprocess", "dummy_thread": "_dummy_thread", "repr": "reprlib",
}

type py2Name struct {
	fix  string
	call bool // only when called: the name is common as a variable
}

var py2Builtins = map[string]py2Name{
	"basestring": {"str", false}, "unicode": {"str", false}, "long": {"int", false}, "xrange": {"range", false},
	"raw_input": {"input() (no terminal under PAM: pamh.conversation)", false}, "unichr": {"chr", false},
	"execfile": {"exec(open(path).read())", false}, "StandardError": {"Exception", false},
	"file": {"open(path)", true}, "reduce": {"functools.reduce", true}, "cmp": {"(a > b) - (a < b)", true},
	"apply": {"f(*args, **kwargs)", true}, "intern": {"sys.intern", true}, "reload": {"importlib.reload", true},
	"buffer": {"memoryview", true}, "coerce": {"int(x), float(x)", true},
}

var py2Methods = map[string]string{"iteritems": "items", "iterkeys": "keys", "itervalues": "values",
	"viewitems": "items", "viewkeys": "keys", "viewvalues": "values"}

// py2Attrs are module members that Python 3 renamed or dropped.
var py2Attrs = map[string]map[string]string{
	"sys":       {"maxint": "sys.maxsize", "exc_clear": "nothing: drop it", "setdefaultencoding": "nothing: drop it"},
	"os":        {"getcwdu": "os.getcwd", "errno": "the errno module"},
	"itertools": {"izip": "zip", "imap": "map", "ifilter": "filter", "izip_longest": "itertools.zip_longest", "ifilterfalse": "itertools.filterfalse"},
	"urllib": {"urlopen": "urllib.request.urlopen", "urlencode": "urllib.parse.urlencode", "quote": "urllib.parse.quote",
		"unquote": "urllib.parse.unquote", "quote_plus": "urllib.parse.quote_plus", "unquote_plus": "urllib.parse.unquote_plus",
		"urlretrieve": "urllib.request.urlretrieve"},
	"string": {"letters": "string.ascii_letters", "lowercase": "string.ascii_lowercase", "uppercase": "string.ascii_uppercase",
		"maketrans": "str.maketrans", "atoi": "int(s)", "atol": "int(s)", "atof": "float(s)", "join": "sep.join(list)",
		"joinfields": "sep.join(list)", "split": "s.split(sep)", "splitfields": "s.split(sep)", "lower": "s.lower()",
		"upper": "s.upper()", "strip": "s.strip()", "lstrip": "s.lstrip()", "rstrip": "s.rstrip()", "replace": "s.replace(a, b)",
		"find": "s.find(x)", "rfind": "s.rfind(x)", "index": "s.index(x)", "rindex": "s.rindex(x)", "count": "s.count(x)",
		"capitalize": "s.capitalize()", "swapcase": "s.swapcase()", "expandtabs": "s.expandtabs()", "translate": "s.translate(t)",
		"ljust": "s.ljust(n)", "rjust": "s.rjust(n)", "center": "s.center(n)", "zfill": "s.zfill(n)"},
}
