package connectors

import "context"

// SinkInfo tells a Sink where the rows it receives come from: the guide's sink(from_name).
// AnkaFlow called sink(<previous stage>) (or sink(<own name>) for a sink with a query) and the
// connection read that table itself; here the rows arrive as an Arrow stream, and SinkInfo
// names the stages, so a connection can still name targets after them or query the source
// through its DuckDB session (Base.DuckDB; stage tables and views are visible there, TEMP
// objects are not).
type SinkInfo struct {
	// Stage is the sink stage's name: the connection's name, and the COPY target.
	Stage string
	// From is the stage (table or view) whose rows are written: the previous stage, or the
	// sink stage itself when it has a query. From SQL it is the COPY's SOURCE option
	// (COPY … TO 'Name' (FORMAT ankaflow, SOURCE 'orders')); DuckDB does not tell a COPY target
	// what its query reads, so without SOURCE it is "".
	From string
}

type sinkInfoKey struct{}

// WithSinkInfo returns a context carrying info for the Sink called with it.
func WithSinkInfo(ctx context.Context, info SinkInfo) context.Context {
	return context.WithValue(ctx, sinkInfoKey{}, info)
}

// SinkInfoOf returns the SinkInfo the caller of Sink put in ctx (zero when none).
func SinkInfoOf(ctx context.Context) SinkInfo {
	info, _ := ctx.Value(sinkInfoKey{}).(SinkInfo)
	return info
}

// SinkInfo is what the current Sink call writes (see SinkInfo); Stage is the connection's own
// name when the caller did not say.
func (b *Base) SinkInfo(ctx context.Context) SinkInfo {
	info := SinkInfoOf(ctx)
	if info.Stage == "" {
		info.Stage = b.name
	}
	return info
}
