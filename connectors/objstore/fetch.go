package objstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Fetcher downloads a list of objects into a private spill directory: several at once (at most
// workers), in key order, and with at most budget bytes on disk or in flight, so a tap of a
// large dataset needs neither its size in memory nor on disk. The reader waits for an object,
// reads it, and releases it (which deletes the file and lets the next downloads start). One
// object larger than the whole budget is still fetched, alone.
//
// Local files keep the object's key as their path under the directory, so DuckDB's
// hive_partitioning sees `year=2024/month=03/` segments exactly as in the bucket.
type Fetcher struct {
	store  Store
	objs   []Object
	dir    string
	budget int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	cond  *sync.Cond
	used  int64
	next  int
	state []fetchState
}

type fetchState struct {
	done     chan struct{}
	err      error
	released bool
}

// NewFetcher starts downloading objs into a new directory under parent.
func NewFetcher(ctx context.Context, store Store, objs []Object, parent string, budget int64, workers int) (*Fetcher, error) {
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("spill directory %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "ankaflow-tap-")
	if err != nil {
		return nil, fmt.Errorf("spill directory %s: %w", parent, err)
	}
	f := &Fetcher{store: store, objs: objs, dir: dir, budget: budget, state: make([]fetchState, len(objs))}
	f.cond = sync.NewCond(&f.mu)
	f.ctx, f.cancel = context.WithCancel(ctx)
	for i := range f.state {
		f.state[i].done = make(chan struct{})
	}
	for range max(1, min(workers, len(objs))) {
		f.wg.Add(1)
		go f.work()
	}
	// Wake waiting workers when the context ends, so they exit.
	go func() {
		<-f.ctx.Done()
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	}()
	return f, nil
}

func (f *Fetcher) work() {
	defer f.wg.Done()
	for {
		f.mu.Lock()
		for f.next < len(f.objs) && f.ctx.Err() == nil && f.used > 0 && f.used+f.objs[f.next].Size > f.budget {
			f.cond.Wait()
		}
		if f.next >= len(f.objs) || f.ctx.Err() != nil {
			f.mu.Unlock()
			return
		}
		i := f.next
		f.next++
		f.used += f.objs[i].Size
		f.mu.Unlock()

		p := f.Path(i)
		err := os.MkdirAll(filepath.Dir(p), 0o700)
		if err == nil {
			err = f.store.Download(f.ctx, f.objs[i].Key, p)
		}
		f.mu.Lock()
		f.state[i].err = err
		f.mu.Unlock()
		close(f.state[i].done)
	}
}

// Path is where object i is (or will be) on disk.
func (f *Fetcher) Path(i int) string { return LocalPath(f.dir, f.objs[i].Key, i) }

// LocalPath is where the i-th object of a listing goes under dir: its key as a path, so that
// hive partition segments stay visible to DuckDB.
func LocalPath(dir, key string, i int) string {
	p := filepath.Join(dir, filepath.FromSlash(key))
	if !strings.HasPrefix(p, dir+string(filepath.Separator)) || strings.HasSuffix(key, "/") {
		// A key that would climb out of the directory (`../x`) gets a neutral name.
		p = filepath.Join(dir, fmt.Sprintf("object-%d%s", i, filepath.Ext(key)))
	}
	return p
}

// Wait blocks until object i is on disk.
func (f *Fetcher) Wait(ctx context.Context, i int) error {
	select {
	case <-f.state[i].done:
	case <-ctx.Done():
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state[i].err
}

// Release deletes object i's file and frees its share of the budget.
func (f *Fetcher) Release(i int) {
	<-f.state[i].done
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state[i].released {
		return
	}
	f.state[i].released = true
	os.Remove(f.Path(i))
	f.used -= f.objs[i].Size
	f.cond.Broadcast()
}

// Close stops the downloads and removes the spill directory.
func (f *Fetcher) Close() error {
	f.cancel()
	f.wg.Wait()
	return os.RemoveAll(f.dir)
}

// Chunks groups objects, in order, into runs that are read by one DuckDB reader call: all of
// them when they fit into the budget, otherwise runs of at most half the budget (so the next
// run downloads while one is read); an object larger than that is a run of its own.
func Chunks(objs []Object, budget int64) [][2]int {
	var total int64
	for _, o := range objs {
		total += o.Size
	}
	if total <= budget {
		return [][2]int{{0, len(objs)}}
	}
	var out [][2]int
	start, sum := 0, int64(0)
	for i, o := range objs {
		if i > start && sum+o.Size > budget/2 {
			out = append(out, [2]int{start, i})
			start, sum = i, 0
		}
		sum += o.Size
	}
	return append(out, [2]int{start, len(objs)})
}
