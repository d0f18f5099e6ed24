"""free_port.py tcp|udp 4|6 GIVEN: print a port nobody is bound to on loopback now and that
is not listed in the file GIVEN, then add it there. Two calls in a row otherwise may hand out
the same port (nothing is bound to it between them), and the second daemon or relay of a
test then fails to start or, worse, a client reaches the wrong one."""
import socket
import sys

kind, version, given_path = sys.argv[1], sys.argv[2], sys.argv[3]
family = socket.AF_INET6 if version == "6" else socket.AF_INET
socktype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
try:
    with open(given_path) as f:
        given = set(f.read().split())
except OSError:
    given = set()
for _ in range(200):
    with socket.socket(family, socktype) as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    if str(port) not in given:
        break
else:
    sys.exit("free_port: no port that was not handed out already")
with open(given_path, "a") as f:
    f.write(f"{port}\n")
print(port)
