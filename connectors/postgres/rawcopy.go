package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// copyConn runs one COPY … TO STDOUT on a connection taken over from pgconn (Hijack) and reads
// the COPY's bytes straight from the socket, in large reads, stripping the protocol's framing.
// PostgreSQL sends one CopyData message per row: through pgconn, each row cost a message parse,
// a Write call and a copy into a pipe to the decoder's goroutine, and the socket was read 8 KiB
// at a time; a tap of a large table spent more CPU on that than on decoding the rows. Here the
// decoder's goroutine reads the socket itself (the kernel's socket buffer lets PostgreSQL run
// ahead meanwhile) and the framing costs a header check per row. When the COPY has ended
// (ReadyForQuery), the connection is handed back to pgconn (Construct) for reuse.
type copyConn struct {
	pc   *pgconn.PgConn // the hijacked connection: still knows how to send a CancelRequest
	hc   *pgconn.HijackedConn
	conn net.Conn
	buf  []byte
	pos  int
	end  int
	left int   // payload bytes left in the current CopyData message
	err  error // the server's error (ErrorResponse), returned once ReadyForQuery has arrived
	eof  bool  // ReadyForQuery received: the connection is idle again

	stopWatch   func() bool
	interrupted atomic.Bool
}

// rawReadSize is the size of one socket read (a read returns what has arrived, up to this).
const rawReadSize = 1 << 20

// startCopy takes pc over and sends the COPY. On error pc is closed.
func startCopy(ctx context.Context, pc *pgconn.PgConn, sql string) (*copyConn, error) {
	if err := pc.SyncConn(ctx); err != nil {
		return nil, err
	}
	hc, err := pc.Hijack()
	if err != nil {
		return nil, err
	}
	cc := &copyConn{pc: pc, hc: hc, conn: hc.Conn, buf: make([]byte, rawReadSize)}
	// Cancelling ctx cancels the query on the server and unblocks a read in progress.
	cc.stopWatch = context.AfterFunc(ctx, cc.interrupt)
	msg := make([]byte, 5, 6+len(sql))
	msg[0] = 'Q'
	msg = append(append(msg, sql...), 0)
	binary.BigEndian.PutUint32(msg[1:], uint32(len(msg)-1))
	if _, err := cc.conn.Write(msg); err != nil {
		cc.close()
		return nil, cc.readErr(ctx, err)
	}
	return cc, nil
}

// interrupt runs when the caller's context is done during the COPY.
func (cc *copyConn) interrupt() {
	cc.interrupted.Store(true)
	_ = cc.conn.SetDeadline(time.Now())
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = cc.pc.CancelRequest(cctx)
}

// readErr is the error of a failed socket operation: the context's when it interrupted it.
func (cc *copyConn) readErr(ctx context.Context, err error) error {
	if cc.interrupted.Load() && ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// fill reads from the socket until at least n bytes are buffered.
func (cc *copyConn) fill(n int) error {
	if cc.end-cc.pos >= n {
		return nil
	}
	if cc.pos > 0 {
		cc.end = copy(cc.buf, cc.buf[cc.pos:cc.end])
		cc.pos = 0
	}
	if n > len(cc.buf) {
		nb := make([]byte, n+rawReadSize)
		copy(nb, cc.buf[:cc.end])
		cc.buf = nb
	}
	for cc.end < n {
		m, err := cc.conn.Read(cc.buf[cc.end:])
		cc.end += m
		if err != nil && cc.end < n {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// Read implements io.Reader: the payload of the CopyData messages. It returns io.EOF once the
// server is ready for the next query, or the server's error then.
func (cc *copyConn) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if cc.left > 0 {
			if cc.pos == cc.end {
				if n > 0 {
					return n, nil // hand out what we have before waiting for the network
				}
				if err := cc.fill(1); err != nil {
					return 0, err
				}
			}
			m := copy(p[n:], cc.buf[cc.pos:min(cc.end, cc.pos+cc.left)])
			n += m
			cc.pos += m
			cc.left -= m
			continue
		}
		if cc.eof {
			if n > 0 {
				return n, nil
			}
			if cc.err != nil {
				return 0, cc.err
			}
			return 0, io.EOF
		}
		if cc.end-cc.pos < 5 {
			if n > 0 {
				return n, nil
			}
			if err := cc.fill(5); err != nil {
				return 0, err
			}
		}
		typ := cc.buf[cc.pos]
		size := int(binary.BigEndian.Uint32(cc.buf[cc.pos+1:])) - 4
		if size < 0 {
			return n, fmt.Errorf("invalid message length %d from the server", size)
		}
		if typ == 'd' {
			cc.pos += 5
			cc.left = size
			continue
		}
		if err := cc.fill(5 + size); err != nil {
			return n, err
		}
		body := cc.buf[cc.pos+5 : cc.pos+5+size]
		cc.pos += 5 + size
		if err := cc.message(typ, body); err != nil {
			return n, err
		}
	}
	return n, nil
}

// message handles a message other than CopyData.
func (cc *copyConn) message(typ byte, body []byte) error {
	switch typ {
	case 'H', 'c', 'C', 'N', 'A': // CopyOutResponse, CopyDone, CommandComplete, notices
	case 'S': // ParameterStatus
		var ps pgproto3.ParameterStatus
		if err := ps.Decode(body); err == nil && cc.hc.ParameterStatuses != nil {
			cc.hc.ParameterStatuses[ps.Name] = ps.Value
		}
	case 'E':
		var er pgproto3.ErrorResponse
		if err := er.Decode(body); err != nil {
			return err
		}
		if cc.err == nil {
			cc.err = pgconn.ErrorResponseToPgError(&er)
		}
	case 'Z':
		if len(body) > 0 {
			cc.hc.TxStatus = body[0]
		}
		cc.eof = true
	default:
		return fmt.Errorf("unexpected message %q from the server during COPY", typ)
	}
	return nil
}

// finish reads the rest of the exchange (the end of the COPY up to ReadyForQuery) and gives the
// connection back to pgconn. It returns the server's error, if any, with the connection (nil
// when it cannot be reused).
func (cc *copyConn) finish() (*pgconn.PgConn, error) {
	var scratch [512]byte
	for {
		n, err := cc.Read(scratch[:])
		if n > 0 && err == nil {
			cc.close()
			return nil, errors.New("data after the end of the binary COPY stream")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if !cc.eof {
				cc.close()
				return nil, err
			}
			break // a server error, and the connection is idle again
		}
	}
	if !cc.stopWatch() || cc.end > cc.pos {
		// Interrupted (the deadline is set, a CancelRequest may be on its way), or unread bytes
		// that pgconn would not see: not reusable.
		cc.close()
		return nil, cc.err
	}
	pc, err := pgconn.Construct(cc.hc)
	if err != nil {
		cc.close()
		return nil, errors.Join(cc.err, err)
	}
	return pc, cc.err
}

// close drops the connection (PostgreSQL ends the query when it notices, or on the cancel).
func (cc *copyConn) close() {
	cc.stopWatch()
	_ = cc.conn.Close()
}
