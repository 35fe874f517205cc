package postgres

import (
	"errors"
	"io"
	"sync"
)

// chunkPipe connects the goroutine receiving a COPY from the network with the decoder. Unlike
// io.Pipe, whose writer waits for every read, it queues up to chunkQueue chunks of chunkSize
// bytes: the receiver keeps draining the socket (and PostgreSQL keeps sending) while the
// decoder or DuckDB pause, and memory stays bounded by the queue.
type chunkPipe struct {
	full chan []byte
	free chan []byte
	done chan struct{} // closed when the reader gives up
	cur  []byte        // writer's chunk being filled
	rd   []byte        // unread part of the reader's chunk
	rdc  []byte        // the reader's whole chunk (recycled when read)
	mu   sync.Mutex
	err  error // the writer's final error (io.EOF when it finished cleanly)
	once sync.Once
}

const (
	chunkSize  = 1 << 20
	chunkQueue = 8
)

var errReaderClosed = errors.New("copy reader closed")

func newChunkPipe() *chunkPipe {
	return &chunkPipe{full: make(chan []byte, chunkQueue), free: make(chan []byte, chunkQueue+2), done: make(chan struct{})}
}

// Write queues p (it is copied).
func (p *chunkPipe) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if p.cur == nil {
			select {
			case p.cur = <-p.free:
			default:
				p.cur = make([]byte, 0, chunkSize)
			}
		}
		m := min(len(b), cap(p.cur)-len(p.cur))
		p.cur = append(p.cur, b[:m]...)
		b = b[m:]
		if len(p.cur) == cap(p.cur) {
			if err := p.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (p *chunkPipe) flush() error {
	if len(p.cur) == 0 {
		return nil
	}
	select {
	case p.full <- p.cur:
		p.cur = nil
		return nil
	case <-p.done:
		return errReaderClosed
	}
}

// CloseWithError ends the stream: the reader gets the queued bytes, then err (io.EOF for nil).
func (p *chunkPipe) CloseWithError(err error) {
	if err == nil {
		err = p.flush()
	}
	if err == nil {
		err = io.EOF
	}
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
	close(p.full)
}

// Read implements io.Reader for the decoder.
func (p *chunkPipe) Read(b []byte) (int, error) {
	for len(p.rd) == 0 {
		c, ok := <-p.full
		if !ok {
			p.mu.Lock()
			defer p.mu.Unlock()
			return 0, p.err
		}
		p.rd, p.rdc = c, c
	}
	n := copy(b, p.rd)
	p.rd = p.rd[n:]
	if len(p.rd) == 0 {
		select {
		case p.free <- p.rdc[:0]:
		default:
		}
		p.rd, p.rdc = nil, nil
	}
	return n, nil
}

// CloseRead tells the writer nobody reads any more.
func (p *chunkPipe) CloseRead() { p.once.Do(func() { close(p.done) }) }
