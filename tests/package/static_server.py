"""A static site served by Python's http.server, as a host with no Kineto-specific setup serves it:
python3 static_server.py DIR [--isolated]. --isolated adds the COOP/COEP headers that make pages
cross-origin isolated. Prints the port it listens on (127.0.0.1, chosen by the system)."""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    isolated = False

    def end_headers(self):
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, *args):
        pass


def main():
    root = sys.argv[1]
    Handler.isolated = "--isolated" in sys.argv[2:]
    Handler.extensions_map = {**Handler.extensions_map, ".js": "text/javascript", ".wasm": "application/wasm"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
