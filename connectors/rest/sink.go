package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Sink sends the rows as JSON: one request per row (batch_size 1, the body is the row's
// object) or per batch_size rows (the body is an array of rows, or {batch_key: [rows]}).
// Requests are retried like a tap's, but a POST or PATCH only when
// client.retries.non_idempotent allows it. A failure names the first row of the failing
// request; rows of earlier requests were delivered (an HTTP API has no transaction to undo).
func (r *Rest) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	u, err := resolveURL(r.cl.cfg.BaseURL, r.req.Endpoint)
	if err != nil {
		return 0, err
	}
	method := r.req.Method
	if method == "GET" || method == "HEAD" {
		method = "POST" // a sink sends data: AnkaFlow's default GET makes no sense here
	}
	req := r.req
	req.Method = method
	req.ContentType = "application/json"
	var sent, requests int64
	pending := make([]json.RawMessage, 0, r.req.BatchSize)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		var body any = pending
		if r.req.BatchSize == 1 {
			body = pending[0]
		} else if r.req.BatchKey != "" {
			body = map[string]any{r.req.BatchKey: pending}
		}
		c, err := buildCall(req, u, r.req.Query, body, true)
		if err != nil {
			return err
		}
		requests++
		if _, _, err := r.cl.do(ctx, c); err != nil {
			preview := string(pending[0])
			if len(preview) > 200 {
				preview = preview[:200] + "…"
			}
			return fmt.Errorf("row %d (the first of this request's %d) failed, %d row(s) were sent before it: %s; the row: %s", sent+1, len(pending), sent, err, r.cl.redact.text(preview))
		}
		sent += int64(len(pending))
		pending = pending[:0]
		return nil
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		js, err := rows.RecordBatch().MarshalJSON()
		if err != nil {
			return sent, err
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		var batch []json.RawMessage
		if err := dec.Decode(&batch); err != nil {
			return sent, err
		}
		for _, row := range batch {
			pending = append(pending, row)
			if len(pending) >= r.req.BatchSize {
				if err := flush(); err != nil {
					return sent, err
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return sent, err
	}
	if err := flush(); err != nil {
		return sent, err
	}
	r.Logger().Info(fmt.Sprintf("sent %d row(s) in %d request(s) (%d HTTP attempt(s))", sent, requests, r.cl.sent.Load()))
	return sent, nil
}
