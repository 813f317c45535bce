package starhost

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// What a run may allocate. go.starlark.net counts steps, not bytes (it
// caps only a string or list repetition, at 1 GiB), and Go keeps no
// account of what one goroutine allocates. So a run is bounded three ways:
//
//   - memoryWatch samples the process's heap while the run lasts and
//     cancels the run once the heap is more than Limits.Memory above the
//     lowest it was since the run began: a loop that doubles a string or
//     grows a list stops there, between two steps. It measures the
//     process, so in the daemon the runs of other calls count too, and a
//     run that grows the heap past the bound can cancel another that runs
//     at the same time (both logins fail, closed);
//   - the universe's builtins that build a list, tuple, set or dict from
//     an iterable in one Go loop, where no step is counted and no
//     cancellation is seen (list(range(1 << 40))), refuse an iterable
//     whose length alone is past the bound (sized);
//   - the host's own producers are bounded where they are made: open()
//     reads at most 1 MiB, json.dumps and json.encode write at most
//     16 MiB, json.decode reads at most 4 MiB (jsonbound.go).
//
// What one operation of the language can still allocate before the watch
// sees it: a repetition up to go.starlark.net's 1 GiB, and a string method
// or format over values that share one big string (",".join([s] * n),
// s.replace("", t), "%s" % ([s] * n)), which the watch cancels only after
// it returns, if the machine had the memory.

// heapMetric is the heap's live objects and the dead ones not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// memoryPoll is how often the heap is sampled (a sample costs ~1 µs): a
// doubling string grows for about this long past the bound.
const memoryPoll = 5 * time.Millisecond

// memoryKey keeps a run's bound in bytes for the sized builtins.
const memoryKey = "pamac.memory"

// memoryWatch cancels a run's thread whose heap grows past its bound.
type memoryWatch struct {
	thread *starlark.Thread
	limit  uint64
	sample []metrics.Sample
	mu     sync.Mutex
	low    uint64 // the least the heap was since the run began
	done   chan struct{}
	once   sync.Once
}

func watchMemory(t *starlark.Thread, limit uint64) *memoryWatch {
	w := &memoryWatch{thread: t, limit: limit, sample: []metrics.Sample{{Name: heapMetric}}, done: make(chan struct{})}
	w.low = w.heap()
	go func() {
		tick := time.NewTicker(memoryPoll)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			if w.check() != nil {
				return
			}
		}
	}()
	return w
}

func (w *memoryWatch) heap() uint64 {
	metrics.Read(w.sample)
	return w.sample[0].Value.Uint64()
}

// check samples the heap now, and cancels the run when it is past the
// bound. The ticker calls it while the run lasts; the run calls it as it
// returns (Run.Call, StartWith), so what a run allocated in its last steps,
// between two ticks, is seen too however busy the machine is.
func (w *memoryWatch) check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.heap()
	w.low = min(w.low, h)
	if h-w.low > w.limit {
		reason := "used more than " + memoryLimit(w.limit)
		w.thread.Cancel(reason)
		return errors.New(reason)
	}
	return nil
}

func (w *memoryWatch) stop() { w.once.Do(func() { close(w.done) }) }

// memoryLimit names a run's bound; isLimit knows it by "memory limit".
func memoryLimit(limit uint64) string { return fmt.Sprintf("its memory limit (%d MiB)", limit>>20) }

// minElement is the least a list, tuple, set or dict keeps for an element.
const minElement = 16

// sizedNames are the universe's builtins that sized wraps.
var sizedNames = []string{"list", "tuple", "sorted", "set", "dict", "enumerate", "zip", "reversed"}

// sizedBuiltins are sizedNames wrapped, shared by all runs.
var sizedBuiltins = func() starlark.StringDict {
	d := starlark.StringDict{}
	for _, name := range sizedNames {
		d[name] = sized(starlark.Universe[name].(*starlark.Builtin))
	}
	return d
}()

// sized is b refusing, before it runs, an argument whose length is past
// what the run may allocate. The refusal cancels the run: a limit, like
// the watch's, that catch() does not catch.
func sized(b *starlark.Builtin) *starlark.Builtin {
	return starlark.NewBuiltin(b.Name(), func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if limit, ok := t.Local(memoryKey).(uint64); ok {
			for _, a := range args {
				if n := starlark.Len(a); n > 0 && uint64(n) > limit/minElement {
					reason := fmt.Sprintf("%s(): %d elements would take more than %s", b.Name(), n, memoryLimit(limit))
					t.Cancel(reason)
					return nil, fmt.Errorf("%s", reason)
				}
			}
		}
		return b.CallInternal(t, args, kw)
	})
}
