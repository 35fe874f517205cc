// Drives a server the way Node applications use node-postgres (`pg`): queries without
// parameters as simple Query messages, queries with parameters over the extended protocol
// (Parse with every parameter type left to the server, text parameters except Buffers, which go
// binary), named prepared statements, a Pool, transactions the application sends itself, and
// errors identified by err.code. Prints one "check: value" line per check;
// pgwire/clients_node_test.go runs it against ankaflow and PostgreSQL and compares the lines.
'use strict'

// Before pg is loaded: date and timestamp values are parsed, and Date parameters serialised,
// in the process's local time zone.
process.env.TZ = 'UTC'

const { Client, Pool } = require('pg')

const target = process.env.ANKA_TARGET
const config = {
  host: process.env.ANKA_HOST,
  port: Number(process.env.ANKA_PORT),
  user: process.env.ANKA_USER,
  password: process.env.ANKA_PASSWORD,
  database: process.env.ANKA_DATABASE,
}

function show(name, value) {
  console.log(`${name}: ${value}`)
}

// typed renders a parsed value with its JS type, the way the application sees it.
function typed(v) {
  if (v === null) return 'null'
  if (Buffer.isBuffer(v)) return `Buffer ${v.toString('hex')}`
  if (v instanceof Date) return `Date ${v.toISOString()}`
  if (Array.isArray(v)) return `Array [${v.map(typed).join(', ')}]`
  if (typeof v === 'object') return `object ${JSON.stringify(v)}`
  return `${typeof v} ${JSON.stringify(v)}`
}

function fields(result) {
  return result.fields.map((f) => `${f.name}:${f.dataTypeID}`).join(' ')
}

function tag(result) {
  return `${result.command} ${result.rowCount}`
}

// expectError runs fn, which must fail, and returns the error's SQLSTATE.
async function expectError(fn) {
  try {
    await fn()
  } catch (err) {
    if (!err.code) throw err
    return err.code
  }
  return 'no error'
}

async function main() {
  const client = new Client({ ...config, application_name: 'client-node' })
  await client.connect()

  const version = await client.query('SHOW server_version')
  show('server major version', version.rows[0].server_version.split('.')[0])
  show('application_name', (await client.query('SHOW application_name')).rows[0].application_name)

  let r = await client.query(
    `CREATE TABLE node_items (
      id integer PRIMARY KEY, name text, price numeric(10,2), weight double precision,
      active boolean, born date, seen timestamp, seen_tz timestamptz, tag uuid, raw bytea,
      scores integer[], doc json)`
  )
  show('create command', `${r.command} ${r.rowCount}`)

  // Every JS type an application passes as a parameter.
  const insert = 'INSERT INTO node_items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)'
  r = await client.query(insert, [
    1,
    "O'Reilly \u2013 caf\u00e9 \u{1F418} \"quoted\" back\\slash",
    12.5,
    0.1,
    true,
    '2024-02-29',
    new Date(Date.UTC(2024, 1, 29, 13, 45, 30, 123)),
    new Date(Date.UTC(2024, 1, 29, 13, 45, 30)),
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x27, 0x5c]),
    [3, 1, 2],
    { k: [1, 'two', null], nested: { s: "it's" } },
  ])
  show('insert', tag(r))
  show('insert oid', r.oid)
  r = await client.query(insert, [2, null, null, null, null, null, null, null, null, null, null, null])
  show('insert nulls', tag(r))
  // A Date for a date column, an empty Buffer and array, and a JSON array: pg would send a JS
  // array as a PostgreSQL array literal, so applications stringify JSON arrays themselves.
  r = await client.query(insert, [
    3, '', -0.5, -1e-7, false, new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
    new Date(Date.UTC(1970, 0, 1)), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', Buffer.alloc(0), [], JSON.stringify([1, 2]),
  ])
  show('insert edge values', tag(r))
  for (let i = 4; i <= 12; i++) {
    r = await client.query('INSERT INTO node_items (id, name, price) VALUES ($1, $2, $3)', [i, `item ${i}`, i / 4])
  }
  show('last loop insert', tag(r))

  r = await client.query('SELECT * FROM node_items WHERE id = $1', [1])
  show('select fields', fields(r))
  show('select', tag(r))
  for (const [k, v] of Object.entries(r.rows[0])) show(`value ${k}`, typed(v))
  r = await client.query('SELECT * FROM node_items WHERE id IN ($1, $2) ORDER BY id', [2, 3])
  for (const row of r.rows) show(`row ${row.id}`, Object.values(row).map(typed).join(' | '))

  r = await client.query('SELECT id, name FROM node_items WHERE name LIKE $1 AND price >= $2 ORDER BY id LIMIT $3', ['item %', 1.5, 3])
  show('like/compare/limit params', JSON.stringify(r.rows))
  r = await client.query('SELECT id FROM node_items WHERE active = $1 OR born = $2 ORDER BY id', [false, '2024-02-29'])
  show('boolean and date params', JSON.stringify(r.rows))
  r = await client.query('SELECT id FROM node_items WHERE seen_tz = $1', [new Date(Date.UTC(2024, 1, 29, 13, 45, 30))])
  show('timestamptz param', JSON.stringify(r.rows))
  r = await client.query('SELECT id FROM node_items WHERE raw = $1', [Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x27, 0x5c])])
  show('bytea param', JSON.stringify(r.rows))
  r = await client.query('SELECT id FROM node_items WHERE tag = $1', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'])
  show('uuid param', JSON.stringify(r.rows))
  r = await client.query('SELECT $1::integer + 1 AS plus, $2::text || \'!\' AS bang, CAST($3 AS numeric(10,2)) AS num', [41, 'hi', '3.14159'])
  show('cast params fields', fields(r))
  show('cast params', Object.values(r.rows[0]).map(typed).join(' | '))

  r = await client.query('SELECT count(*) AS n, sum(price) AS total, min(name) AS first, max(id) AS last FROM node_items')
  show('aggregate fields', fields(r))
  show('aggregates', Object.values(r.rows[0]).map(typed).join(' | '))

  r = await client.query('SELECT $1::bigint AS big, $2::bigint AS neg, \'1 day 02:03:04.5\'::interval AS iv', [9007199254740993n, -42])
  show('bigint and interval fields', fields(r))
  show('bigint and interval', Object.values(r.rows[0]).map(typed).join(' | '))

  r = await client.query("SELECT NULL::integer AS i, ''::text AS e, ARRAY['a', NULL, 'c b', 'q\"']::text[] AS arr")
  show('nulls and text array fields', fields(r))
  show('nulls and text array', Object.values(r.rows[0]).map(typed).join(' | '))

  r = await client.query('SELECT id, name FROM node_items WHERE id > $1 ORDER BY id', [100])
  show('no rows', `${tag(r)} ${fields(r)} ${JSON.stringify(r.rows)}`)

  r = await client.query({ text: 'SELECT id, name, price FROM node_items WHERE id <= $1 ORDER BY id', values: [3], rowMode: 'array' })
  show('rowMode array', JSON.stringify(r.rows))
  show('rowMode array fields', fields(r))

  // queryMode 'extended' sends a query without parameters over the extended protocol.
  r = await client.query({ text: 'SELECT id, name FROM node_items WHERE id = 3', queryMode: 'extended' })
  show('extended without params', `${tag(r)} ${fields(r)} ${JSON.stringify(r.rows)}`)

  // A named statement is parsed once per connection, then only bound and executed.
  const byId = (id) => ({ name: 'by_id', text: 'SELECT id, name, price FROM node_items WHERE id = $1', values: [id] })
  for (const id of [4, 7, 1000, 12]) {
    r = await client.query(byId(id))
    show(`by_id ${id}`, `${tag(r)} ${JSON.stringify(r.rows)}`)
  }

  // Without parameters a query is a simple Query; several statements give several results.
  r = await client.query('SELECT 1 AS a; SELECT 2 AS b, $$two$$ AS c')
  show('multi statement results', r.length)
  for (const [i, res] of r.entries()) show(`multi statement ${i}`, `${tag(res)} ${fields(res)} ${JSON.stringify(res.rows)}`)
  r = await client.query("UPDATE node_items SET name = 'multi' WHERE id = 4; DELETE FROM node_items WHERE id = 5; SELECT name FROM node_items WHERE id = 4")
  show('multi statement tags', r.map(tag).join(', '))

  // PostgreSQL types $1 in `price * $1` as numeric from the other operand; DuckDB cannot infer
  // a parameter of an arithmetic operator (see the ankaflow-only line below), so cast it.
  r = await client.query('UPDATE node_items SET price = price * $1::numeric WHERE id BETWEEN $2 AND $3', [2, 6, 8])
  show('update', tag(r))
  r = await client.query('SELECT id, price FROM node_items WHERE id BETWEEN $1 AND $2 ORDER BY id', [5, 9])
  show('after update', JSON.stringify(r.rows))
  // The same for `id = ANY($1)` (PostgreSQL: int4[] from the left operand).
  r = await client.query('SELECT id FROM node_items WHERE id = ANY($1::integer[]) ORDER BY id', [[1, 3, 99]])
  show('= ANY(array param)', JSON.stringify(r.rows))
  r = await client.query('DELETE FROM node_items WHERE id = $1', [12])
  show('delete', tag(r))
  r = await client.query('DELETE FROM node_items WHERE id = $1', [12])
  show('delete nothing', tag(r))

  // Transactions are whatever the application sends.
  r = await client.query('BEGIN')
  show('begin', r.command)
  await client.query('INSERT INTO node_items (id, name) VALUES ($1, $2)', [20, 'rolled back'])
  await client.query('DELETE FROM node_items WHERE id = $1', [11])
  r = await client.query('ROLLBACK')
  show('rollback', r.command)
  r = await client.query('SELECT id FROM node_items WHERE id IN (11, 20) ORDER BY id')
  show('after rollback', JSON.stringify(r.rows))
  await client.query('BEGIN')
  await client.query('INSERT INTO node_items (id, name) VALUES ($1, $2)', [21, 'committed'])
  r = await client.query('COMMIT')
  show('commit', r.command)
  r = await client.query('SELECT name FROM node_items WHERE id = 21')
  show('after commit', JSON.stringify(r.rows))

  // Warnings arrive as 'notice' events.
  const notices = []
  client.on('notice', (msg) => notices.push(`${msg.severity} ${msg.code}`))
  await client.query('BEGIN')
  await client.query('BEGIN')
  await client.query('COMMIT')
  await client.query('COMMIT')
  show('notices', notices.join(', '))
  client.removeAllListeners('notice')

  // Errors.
  show('undefined table', await expectError(() => client.query('SELECT * FROM node_missing_table')))
  show('undefined table with params', await expectError(() => client.query('SELECT * FROM node_missing_table WHERE id = $1', [1])))
  show('undefined column', await expectError(() => client.query('SELECT no_such_column FROM node_items WHERE id = $1', [1])))
  const syntax = await client.query('SELECT 1 AS one FROM node_items WHERE id = 1 AND AND').then(() => null, (err) => err)
  show('syntax error fields', syntax && `${syntax.code} ${syntax.severity} position ${syntax.position}`)
  show('syntax error', await expectError(() => client.query('SELEC 1')))
  show('too few parameters', await expectError(() => client.query('SELECT $1::integer AS a, $2::integer AS b', [1])))
  show('unique violation', await expectError(() => client.query('INSERT INTO node_items (id, name) VALUES ($1, $2)', [1, 'duplicate'])))
  show('usable after errors', (await client.query('SELECT count(*)::integer AS n FROM node_items')).rows[0].n)
  await client.query('BEGIN')
  await client.query('INSERT INTO node_items (id, name) VALUES ($1, $2)', [30, 'lost'])
  show('error in transaction', await expectError(() => client.query('SELECT * FROM node_missing_table')))
  show('failed transaction', await expectError(() => client.query('SELECT 1 AS one')))
  show('failed transaction with params', await expectError(() => client.query('SELECT $1::integer AS one', [1])))
  r = await client.query('ROLLBACK')
  show('rollback failed transaction', r.command)
  r = await client.query('SELECT count(*)::integer AS n FROM node_items WHERE id = $1', [30])
  show('recovered', JSON.stringify(r.rows))
  await client.query('BEGIN')
  await expectError(() => client.query('SELEC 1'))
  r = await client.query('COMMIT')
  show('commit of failed transaction', r.command)

  // A pool: several connections, queries spread over them; committed rows are visible.
  const pool = new Pool({ ...config, max: 3, statement_timeout: 5000 })
  pool.on('error', (err) => {
    console.error('pool error:', err)
    process.exit(1)
  })
  r = await pool.query('SELECT count(*)::integer AS n, max(name) AS top FROM node_items')
  show('pool sees committed rows', JSON.stringify(r.rows))
  const many = await Promise.all([1, 2, 3, 4, 6, 7].map((id) => pool.query('SELECT id, name FROM node_items WHERE id = $1', [id])))
  show('pool concurrent queries', JSON.stringify(many.map((res) => res.rows[0])))
  const pooled = await pool.connect()
  try {
    await pooled.query('BEGIN')
    await pooled.query('INSERT INTO node_items (id, name) VALUES ($1, $2)', [40, 'from the pool'])
    r = await client.query('SELECT count(*)::integer AS n FROM node_items WHERE id = 40')
    show('uncommitted row seen by another connection', r.rows[0].n)
    await pooled.query('COMMIT')
  } finally {
    pooled.release()
  }
  r = await client.query('SELECT name FROM node_items WHERE id = 40')
  show('pool commit seen by client', JSON.stringify(r.rows))
  r = await pool.query(byId(40))
  show('named statement on pool', JSON.stringify(r.rows))
  r = await pool.query('SHOW statement_timeout')
  show('pool statement_timeout', JSON.stringify(r.rows))

  const wrong = new Client({ ...config, password: 'wrong' })
  try {
    await wrong.connect()
    show('wrong password', 'connected')
    await wrong.end()
  } catch (err) {
    show('wrong password', err.code === '28P01')
  }

  if (target === 'ankaflow') {
    r = await client.query("SELECT customer, amount FROM tap('Orders') WHERE amount > $1 ORDER BY id", [10])
    console.log(`ankaflow tap fields: ${fields(r)}`)
    console.log(`ankaflow tap: ${JSON.stringify(r.rows)}`)
    r = await client.query('SELECT * FROM show_schema($1)', ['Orders'])
    console.log(`ankaflow show_schema fields: ${fields(r)}`)
    console.log(`ankaflow show_schema: ${JSON.stringify(r.rows)}`)
    // The connection name as a parameter of a named statement, executed twice.
    for (const min of [0, 50]) {
      r = await client.query({ name: 'tap_by_name', text: 'SELECT customer FROM tap($1) WHERE amount > $2 ORDER BY id', values: ['Orders', min] })
      console.log(`ankaflow named tap(\$1) > ${min}: ${fields(r)} ${JSON.stringify(r.rows)}`)
    }
    // Parameters PostgreSQL types from the other operand and DuckDB leaves untyped: pg sends
    // them as text of unspecified type, which DuckDB cannot resolve here.
    const untyped = [
      ['price * $1', 'SELECT price * $1 AS p FROM node_items WHERE id = 1', [2]],
      ['id = ANY($1)', 'SELECT id FROM node_items WHERE id = ANY($1)', [[1, 3]]],
    ]
    for (const [name, text, values] of untyped) {
      // On success the rows are printed, so a wrong answer shows as well as an error.
      let rows = null
      const code = await expectError(async () => { rows = (await client.query(text, values)).rows })
      console.log(`ankaflow untyped ${name}: ${rows ? JSON.stringify(rows) : code}`)
    }
  }

  r = await client.query('DROP TABLE node_items')
  show('drop', r.command)
  await pool.end()
  await client.end()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
