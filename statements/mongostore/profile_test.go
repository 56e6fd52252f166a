package mongostore_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// profile sums the time of each command by collection when
// LRS_TEST_MONGO_PROFILE is set; printProfile prints it.
var profile = struct {
	sync.Mutex
	start map[int64]string
	n     map[string]int
	d     map[string]time.Duration
}{start: map[int64]string{}, n: map[string]int{}, d: map[string]time.Duration{}}

func profileOptions() *options.ClientOptions {
	if os.Getenv("LRS_TEST_MONGO_PROFILE") == "" {
		return options.Client()
	}
	return options.Client().SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
			k := e.CommandName + " " + coll
			if e.CommandName == "find" {
				if f, ok := e.Command.Lookup("filter").DocumentOK(); ok {
					var m bson.D
					bson.Unmarshal(f, &m)
					keys := ""
					for _, x := range m {
						keys += x.Key + ","
					}
					k += " {" + keys + "}"
				}
			}
			profile.Lock()
			profile.start[e.RequestID] = k
			profile.Unlock()
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { done(e.RequestID, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { done(e.RequestID, e.Duration) },
	})
}

func done(id int64, d time.Duration) {
	profile.Lock()
	defer profile.Unlock()
	k := profile.start[id]
	delete(profile.start, id)
	profile.n[k]++
	profile.d[k] += d
}

func printProfile() {
	if os.Getenv("LRS_TEST_MONGO_PROFILE") == "" {
		return
	}
	var ks []string
	for k := range profile.n {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return profile.d[ks[i]] > profile.d[ks[j]] })
	for _, k := range ks {
		fmt.Printf("%10v %6d %8v  %s\n", profile.d[k].Round(time.Millisecond), profile.n[k], (profile.d[k] / time.Duration(profile.n[k])).Round(time.Microsecond), k)
	}
}
