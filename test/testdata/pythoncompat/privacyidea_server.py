# privacyidea_server.py: answers POST /validate/check as a privacyIDEA
# server does, for privacyidea_pam.py in test/pythoncompat_test.go. It
# listens on 127.0.0.1 (a port of its own), prints "PORT n", and prints
# one line "REQUEST {json}" per request (path, form, user-agent).
#
#   alice / right-otp  -> status true, value true (authenticated)
#   unknown            -> status false, an ERR904 error (as for a user no
#                         resolver knows)
#   anything else      -> status true, value false (wrong OTP)
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(n).decode()).items()}
        with open(sys.argv[1], "a") as log:
            log.write(json.dumps({"path": self.path, "form": form, "agent": self.headers.get("User-Agent")}) + "\n")
        if self.path != "/validate/check":
            self.send_error(404)
            return
        user, otp = form.get("user"), form.get("pass")
        if user == "unknown":
            body = {"result": {"status": False, "error": {
                "code": 904, "message": "ERR904: The user can not be found in any resolver in this realm!"}}}
        elif user == "alice" and otp == "right-otp":
            body = {"result": {"status": True, "value": True},
                    "detail": {"serial": "PISP0001", "type": "spass", "message": "matching 1 tokens"}}
        else:
            body = {"result": {"status": True, "value": False},
                    "detail": {"serial": "PISP0001", "type": "spass", "message": "wrong otp pin"}}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = HTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()
