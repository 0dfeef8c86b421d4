// Package protocol holds the wire formats that the gomon server and its
// clients share with mon 1.3: the value escaping, request framing and
// command dispatch of the TCP protocol, the opstatus record, the statedir
// file formats, the UDP trap packet, and a small client.
//
// Everything here is byte-compatible with mon 1.3.6 and Mon::Client 1.2.0
// unless docs/compat/protocol-auth.md says otherwise.
package protocol
