package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/go-sql-driver/mysql"
)

// Sink limits: rows per INSERT statement (MySQL allows 65,535 placeholders per statement) and
// the most bytes of values one INSERT may carry (also kept under half of the server's
// max_allowed_packet).
const (
	maxInsertRows  = 2048
	maxInsertBytes = 16 << 20
)

// MySQL error numbers the sink tells apart.
const (
	errNoSuchTable = 1146
	errTableExists = 1050
)

// Sink appends the incoming rows to the table, all or nothing.
//
// The rows are written with multi-row INSERT statements inside one transaction, which is
// committed only after the last row; any error (a constraint violation in the last batch, a
// cancelled run, a lost connection) rolls it back. MySQL commits DDL on its own, so a table
// that does not exist yet cannot be created inside that transaction: instead it is created
// under a private staging name, loaded, and renamed into place with RENAME TABLE (atomic) once
// the load has committed. A failed sink drops the staging table, so the target table never
// exists half-loaded; a process killed mid-load can leave a `_ankaflow_…` staging table behind,
// never the target.
//
// An existing table must use a transactional storage engine (InnoDB): rows written into a
// MyISAM table cannot be rolled back, so such a sink is refused before anything is written.
// The load runs with STRICT_ALL_TABLES added to the session's sql_mode, so values that do not
// fit their column fail the sink instead of being silently truncated.
func (m *MySQL) Sink(ctx context.Context, rows array.RecordReader) (int64, error) {
	if m.db == nil {
		return 0, fmt.Errorf("%s: connection is closed", m.where())
	}
	table := m.table()
	if table == "" {
		// The guide's sink(from_name): without params.table or a locator, the MySQL table is
		// named after the stage whose rows are written (the previous stage, or the sink
		// itself when it has a query; from SQL, COPY's SOURCE option).
		table = m.SinkInfo(ctx).From
	}
	if table == "" {
		return 0, fmt.Errorf("%s: sink needs a table: set params.table (or the connection's locator), or write the rows of a named stage (COPY … (FORMAT ankaflow, SOURCE 'stage'))", m.where())
	}
	cols, err := sinkColumns(rows.Schema())
	if err != nil {
		return 0, fmt.Errorf("%s: sink into %s: %w", m.where(), QuoteIdent(table), err)
	}
	n, err := m.sink(ctx, table, cols, rows)
	if err != nil {
		return 0, fmt.Errorf("%s: sink into %s: %w", m.where(), QuoteIdent(table), err)
	}
	m.Logger().Debug("mysql sink", "table", table, "rows", n)
	return n, nil
}

func (m *MySQL) sink(ctx context.Context, table string, cols []sinkColumn, rows array.RecordReader) (n int64, err error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	discard := false
	defer func() {
		if discard {
			// The session state is unknown (sql_mode not restored): drop the connection
			// rather than return it to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()

	var dbName sql.NullString
	var maxPacket int64
	var mode string
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE(), @@max_allowed_packet, @@SESSION.sql_mode").Scan(&dbName, &maxPacket, &mode); err != nil {
		return 0, err
	}
	if !dbName.Valid {
		return 0, errors.New("no database selected: set params.database")
	}
	exists, engine, err := tableState(ctx, conn, table)
	if err != nil {
		return 0, err
	}
	if exists && engine != "" && !transactional(engine) {
		return 0, fmt.Errorf("table uses the %s storage engine, which cannot roll back a failed load; convert it (ALTER TABLE %s ENGINE=InnoDB) or sink into an InnoDB table", engine, QuoteIdent(table))
	}

	if !strings.Contains(mode, "STRICT_ALL_TABLES") {
		strict := "STRICT_ALL_TABLES"
		if mode != "" {
			strict = mode + "," + strict
		}
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ?", strict); err != nil {
			return 0, err
		}
		defer func() {
			rctx, cancel := cleanupContext(ctx)
			defer cancel()
			if _, rerr := conn.ExecContext(rctx, "SET SESSION sql_mode = ?", mode); rerr != nil {
				discard = true
			}
		}()
	}

	target := table
	staging := ""
	if !exists {
		staging = stagingName(table)
		if _, err := conn.ExecContext(ctx, createTableSQL(staging, cols)); err != nil {
			return 0, fmt.Errorf("create table: %w", err)
		}
		target = staging
		defer func() {
			if err != nil {
				m.dropStaging(ctx, staging)
			}
		}()
	}

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	n, err = load(ctx, tx, target, cols, rows, maxPacket)
	if err != nil {
		tx.Rollback()
		discard = true
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		discard = true
		return 0, fmt.Errorf("commit: %w", err)
	}
	if staging != "" {
		_, err := conn.ExecContext(ctx, "RENAME TABLE "+QuoteIdent(staging)+" TO "+QuoteIdent(table))
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == errTableExists {
			return 0, fmt.Errorf("the table was created by someone else while the rows were loading; nothing was written: %w", err)
		}
		if err != nil {
			return 0, fmt.Errorf("rename loaded table into place: %w", err)
		}
	}
	return n, nil
}

// dropStaging removes a staging table through the pool: the sink's own connection may be dead
// (a cancelled context makes the driver close it).
func (m *MySQL) dropStaging(ctx context.Context, staging string) {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if _, err := m.db.ExecContext(cctx, "DROP TABLE IF EXISTS "+QuoteIdent(staging)); err != nil {
		m.Logger().Warn("mysql sink: could not drop staging table; drop it by hand", "table", staging, "error", err)
	}
}

// cleanupContext outlives a cancelled ctx, briefly, for cleanup statements.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// tableState reports whether the table exists (as the server resolves the name) and its
// storage engine ("" for views).
func tableState(ctx context.Context, conn *sql.Conn, table string) (bool, string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT 1 FROM "+QuoteIdent(table)+" LIMIT 0")
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == errNoSuchTable {
			return false, "", nil
		}
		return false, "", err
	}
	rows.Close()
	var engine string
	rs, err := conn.QueryContext(ctx, `SELECT table_name, COALESCE(engine, '') FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_name = ?`, table)
	if err != nil {
		return false, "", err
	}
	defer rs.Close()
	for rs.Next() {
		var name, e string
		if err := rs.Scan(&name, &e); err != nil {
			return false, "", err
		}
		if engine == "" || name == table {
			engine = e
		}
	}
	return true, engine, rs.Err()
}

func transactional(engine string) bool {
	switch strings.ToLower(engine) {
	case "innodb", "xtradb", "ndb", "ndbcluster", "tokudb", "rocksdb":
		return true
	}
	return false
}

func stagingName(table string) string {
	var b [4]byte
	rand.Read(b[:])
	name := []rune("_ankaflow_" + hex.EncodeToString(b[:]) + "_" + table)
	if len(name) > 64 { // MySQL's identifier limit, in characters
		name = name[:64]
	}
	return string(name)
}

func createTableSQL(table string, cols []sinkColumn) string {
	var sb strings.Builder
	sb.WriteString("CREATE TABLE " + QuoteIdent(table) + " (")
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(QuoteIdent(c.name) + " " + c.ddl)
		if !c.nullable {
			sb.WriteString(" NOT NULL")
		}
	}
	sb.WriteString(") DEFAULT CHARSET=utf8mb4")
	return sb.String()
}

func insertSQL(table string, cols []sinkColumn, rows int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + QuoteIdent(table) + " (")
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(QuoteIdent(c.name))
	}
	sb.WriteString(") VALUES ")
	tuple := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(tuple)
	}
	return sb.String()
}

// load writes every row of rows into table within tx, in multi-row INSERTs.
func load(ctx context.Context, tx *sql.Tx, table string, cols []sinkColumn, rows array.RecordReader, maxPacket int64) (int64, error) {
	budget := int64(maxInsertBytes)
	if maxPacket > 0 && maxPacket/2 < budget {
		budget = maxPacket / 2
	}
	batchRows := maxInsertRows
	if limit := 65535 / len(cols); limit < batchRows {
		batchRows = limit
	}
	var (
		full    *sql.Stmt // the prepared INSERT of batchRows rows, reused for every full batch
		args    = make([]any, 0, batchRows*len(cols))
		pending int
		size    int64
		total   int64
		held    []arrow.RecordBatch // batches whose buffers the pending args point into
		cur     arrow.RecordBatch
	)
	defer func() {
		if full != nil {
			full.Close()
		}
		for _, h := range held {
			h.Release()
		}
	}()
	flush := func() error {
		if pending == 0 {
			return nil
		}
		var err error
		if pending == batchRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertSQL(table, cols, batchRows)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(table, cols, pending), args...)
		}
		if err != nil {
			first := total + 1
			return fmt.Errorf("rows %d-%d: %w", first, total+int64(pending), err)
		}
		total += int64(pending)
		clear(args)
		args, pending, size = args[:0], 0, 0
		for _, h := range held {
			if h != cur {
				h.Release()
			}
		}
		held = held[:0]
		if cur != nil {
			held = append(held, cur)
		}
		return nil
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rec := rows.RecordBatch()
		rec.Retain()
		cur = rec
		held = append(held, rec)
		arrs := rec.Columns()
		nrows := int(rec.NumRows())
		for i := 0; i < nrows; i++ {
			for j, c := range cols {
				v, sz, err := c.value(arrs[j], i)
				if err != nil {
					return 0, fmt.Errorf("row %d, column %s: %w", total+int64(pending)+1, QuoteIdent(c.name), err)
				}
				args = append(args, v)
				size += int64(sz)
			}
			pending++
			if pending == batchRows || size >= budget {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
		cur = nil
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return total, nil
}

// sinkColumn is one incoming Arrow column: its MySQL column type (for CREATE TABLE) and how
// its values become driver arguments.
type sinkColumn struct {
	name     string
	ddl      string
	nullable bool
	value    func(a arrow.Array, i int) (v any, size int, err error)
}

func sinkColumns(schema *arrow.Schema) ([]sinkColumn, error) {
	if schema.NumFields() == 0 {
		return nil, errors.New("the incoming rows have no columns")
	}
	out := make([]sinkColumn, schema.NumFields())
	for i, f := range schema.Fields() {
		ddl, val, err := mysqlColumn(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", QuoteIdent(f.Name), err)
		}
		out[i] = sinkColumn{name: f.Name, ddl: ddl, nullable: f.Nullable, value: nullable(val)}
	}
	return out, nil
}

type valueFunc func(a arrow.Array, i int) (any, int, error)

func nullable(f valueFunc) valueFunc {
	return func(a arrow.Array, i int) (any, int, error) {
		if a.IsNull(i) {
			return nil, 1, nil
		}
		return f(a, i)
	}
}

// Sizes of values as the binary protocol sends them (type, length prefix, bytes), roughly.
const (
	fixedSize = 10
	varSize   = 11
)

func text(s string) (any, int, error) { return s, varSize + len(s), nil }

// mysqlColumn maps an Arrow type to the MySQL column type created for it and the conversion of
// its values:
//
//	bool                              BOOLEAN (TINYINT(1))
//	int8…int64, uint8…uint64          TINYINT…BIGINT [UNSIGNED]
//	float16, float32, float64         FLOAT, FLOAT, DOUBLE
//	decimal(p,s)                      DECIMAL(p,s)
//	utf8, large_utf8, utf8_view       LONGTEXT
//	binary, large_binary, binary_view LONGBLOB; fixed_size_binary(n) BINARY(n)
//	date32, date64                    DATE
//	timestamp (any unit)              DATETIME(0/3/6); with a time zone, the UTC value
//	time32, time64, duration          TIME(0/3/6)
//	list, struct, map                 JSON
//	dictionary (DuckDB ENUM)          its value type
//	uuid extension                    CHAR(36)
//	null                              TEXT
//
// Intervals have no MySQL equivalent: cast them in the query.
func mysqlColumn(dt arrow.DataType) (string, valueFunc, error) {
	switch t := dt.(type) {
	case *arrow.NullType:
		return "TEXT", func(arrow.Array, int) (any, int, error) { return nil, 1, nil }, nil
	case *arrow.BooleanType:
		return "BOOLEAN", func(a arrow.Array, i int) (any, int, error) { return a.(*array.Boolean).Value(i), fixedSize, nil }, nil
	case *arrow.Int8Type:
		return "TINYINT", func(a arrow.Array, i int) (any, int, error) { return int64(a.(*array.Int8).Value(i)), fixedSize, nil }, nil
	case *arrow.Int16Type:
		return "SMALLINT", func(a arrow.Array, i int) (any, int, error) { return int64(a.(*array.Int16).Value(i)), fixedSize, nil }, nil
	case *arrow.Int32Type:
		return "INT", func(a arrow.Array, i int) (any, int, error) { return int64(a.(*array.Int32).Value(i)), fixedSize, nil }, nil
	case *arrow.Int64Type:
		return "BIGINT", func(a arrow.Array, i int) (any, int, error) { return a.(*array.Int64).Value(i), fixedSize, nil }, nil
	case *arrow.Uint8Type:
		return "TINYINT UNSIGNED", func(a arrow.Array, i int) (any, int, error) { return int64(a.(*array.Uint8).Value(i)), fixedSize, nil }, nil
	case *arrow.Uint16Type:
		return "SMALLINT UNSIGNED", func(a arrow.Array, i int) (any, int, error) { return int64(a.(*array.Uint16).Value(i)), fixedSize, nil }, nil
	case *arrow.Uint32Type:
		return "INT UNSIGNED", func(a arrow.Array, i int) (any, int, error) { return int64(a.(*array.Uint32).Value(i)), fixedSize, nil }, nil
	case *arrow.Uint64Type:
		return "BIGINT UNSIGNED", func(a arrow.Array, i int) (any, int, error) { return a.(*array.Uint64).Value(i), fixedSize, nil }, nil
	case *arrow.Float16Type:
		return "FLOAT", func(a arrow.Array, i int) (any, int, error) {
			return float64(a.(*array.Float16).Value(i).Float32()), fixedSize, nil
		}, nil
	case *arrow.Float32Type:
		return "FLOAT", func(a arrow.Array, i int) (any, int, error) {
			return float64(a.(*array.Float32).Value(i)), fixedSize, nil
		}, nil
	case *arrow.Float64Type:
		return "DOUBLE", func(a arrow.Array, i int) (any, int, error) { return a.(*array.Float64).Value(i), fixedSize, nil }, nil
	case arrow.DecimalType:
		p, s := t.GetPrecision(), t.GetScale()
		if p > 65 || s > 30 || s < 0 {
			return "", nil, fmt.Errorf("DECIMAL(%d,%d) is wider than MySQL's DECIMAL(65,30); cast it in the query", p, s)
		}
		ddl := fmt.Sprintf("DECIMAL(%d,%d)", p, s)
		// Decimals travel as their exact digits ("-12.50"), which MySQL parses exactly.
		if _, ok := t.(*arrow.Decimal128Type); ok {
			return ddl, func(a arrow.Array, i int) (any, int, error) {
				return text(formatDecimal128(a.(*array.Decimal128).Value(i), s))
			}, nil
		}
		return ddl, func(a arrow.Array, i int) (any, int, error) { return text(a.ValueStr(i)) }, nil
	case *arrow.StringType:
		return "LONGTEXT", func(a arrow.Array, i int) (any, int, error) { return text(a.(*array.String).Value(i)) }, nil
	case *arrow.LargeStringType:
		return "LONGTEXT", func(a arrow.Array, i int) (any, int, error) { return text(a.(*array.LargeString).Value(i)) }, nil
	case *arrow.StringViewType:
		return "LONGTEXT", func(a arrow.Array, i int) (any, int, error) { return text(a.(*array.StringView).Value(i)) }, nil
	case *arrow.BinaryType:
		return "LONGBLOB", func(a arrow.Array, i int) (any, int, error) {
			b := a.(*array.Binary).Value(i)
			return b, varSize + len(b), nil
		}, nil
	case *arrow.LargeBinaryType:
		return "LONGBLOB", func(a arrow.Array, i int) (any, int, error) {
			b := a.(*array.LargeBinary).Value(i)
			return b, varSize + len(b), nil
		}, nil
	case *arrow.BinaryViewType:
		return "LONGBLOB", func(a arrow.Array, i int) (any, int, error) {
			b := a.(*array.BinaryView).Value(i)
			return b, varSize + len(b), nil
		}, nil
	case *arrow.FixedSizeBinaryType:
		ddl := fmt.Sprintf("BINARY(%d)", t.ByteWidth)
		if t.ByteWidth > 255 {
			ddl = "BLOB"
		}
		return ddl, func(a arrow.Array, i int) (any, int, error) {
			b := a.(*array.FixedSizeBinary).Value(i)
			return b, varSize + len(b), nil
		}, nil
	case *arrow.Date32Type:
		return "DATE", func(a arrow.Array, i int) (any, int, error) {
			return text(a.(*array.Date32).Value(i).ToTime().Format(time.DateOnly))
		}, nil
	case *arrow.Date64Type:
		return "DATE", func(a arrow.Array, i int) (any, int, error) {
			return text(a.(*array.Date64).Value(i).ToTime().Format(time.DateOnly))
		}, nil
	case *arrow.TimestampType:
		unit := t.Unit
		return "DATETIME" + fsp(unit), func(a arrow.Array, i int) (any, int, error) {
			return text(a.(*array.Timestamp).Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999"))
		}, nil
	case *arrow.Time32Type:
		unit := t.Unit
		return "TIME" + fsp(unit), func(a arrow.Array, i int) (any, int, error) {
			return text(a.(*array.Time32).Value(i).ToTime(unit).Format("15:04:05.999999"))
		}, nil
	case *arrow.Time64Type:
		unit := t.Unit
		return "TIME" + fsp(unit), func(a arrow.Array, i int) (any, int, error) {
			return text(a.(*array.Time64).Value(i).ToTime(unit).Format("15:04:05.999999"))
		}, nil
	case *arrow.DurationType:
		unit := t.Unit
		return "TIME" + fsp(unit), func(a arrow.Array, i int) (any, int, error) {
			d := time.Duration(a.(*array.Duration).Value(i)) * unit.Multiplier()
			return text(formatTime(d))
		}, nil
	case *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType, *arrow.ListViewType, *arrow.StructType, *arrow.MapType:
		return "JSON", func(a arrow.Array, i int) (any, int, error) {
			js, err := json.Marshal(a.GetOneForMarshal(i))
			if err != nil {
				return nil, 0, err
			}
			return text(string(js))
		}, nil
	case *arrow.DictionaryType:
		ddl, inner, err := mysqlColumn(t.ValueType)
		if err != nil {
			return "", nil, err
		}
		inner = nullable(inner)
		return ddl, func(a arrow.Array, i int) (any, int, error) {
			d := a.(*array.Dictionary)
			return inner(d.Dictionary(), d.GetValueIndex(i))
		}, nil
	case arrow.ExtensionType:
		if t.ExtensionName() == "arrow.uuid" {
			return "CHAR(36)", func(a arrow.Array, i int) (any, int, error) { return text(a.ValueStr(i)) }, nil
		}
		ddl, inner, err := mysqlColumn(t.StorageType())
		if err != nil {
			return "", nil, err
		}
		return ddl, func(a arrow.Array, i int) (any, int, error) {
			return inner(a.(array.ExtensionArray).Storage(), i)
		}, nil
	}
	return "", nil, fmt.Errorf("Arrow type %s has no MySQL column type; cast it in the query (for example to VARCHAR)", dt)
}

// formatDecimal128 renders an unscaled decimal128 with scale digits after the point, exactly
// (arrow's ValueStr goes through big.Float, which dominated the sink's time).
func formatDecimal128(n decimal128.Num, scale int32) string {
	var digits string
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	if n.HighBits() == 0 && n.LowBits() <= math.MaxInt64 {
		digits = strconv.FormatUint(n.LowBits(), 10)
	} else {
		digits = n.BigInt().String()
	}
	if scale > 0 {
		if len(digits) <= int(scale) {
			digits = strings.Repeat("0", int(scale)-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// fsp is the fractional-seconds precision for a time unit: (3) for ms, (6) for µs and ns.
func fsp(u arrow.TimeUnit) string {
	switch u {
	case arrow.Second:
		return ""
	case arrow.Millisecond:
		return "(3)"
	}
	return "(6)"
}

// formatTime renders a duration as MySQL TIME text: [-]H:MM:SS.ffffff.
func formatTime(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	us := d.Microseconds()
	h := us / 3_600_000_000
	us -= h * 3_600_000_000
	m := us / 60_000_000
	us -= m * 60_000_000
	s := us / 1_000_000
	us -= s * 1_000_000
	out := fmt.Sprintf("%s%d:%02d:%02d", sign, h, m, s)
	if us != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", us), "0")
	}
	return out
}
