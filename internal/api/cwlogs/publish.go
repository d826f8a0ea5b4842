package cwlogs

import "github.com/mailtrail/mailtrail/internal/store"

// Publish offers events that another writer stored (the mail-server record
// sink writes straight to the store, not through PutLogEvents) to the
// live-tail sessions watching their group. Like PutLogEvents' own
// publishing, it never blocks the writer.
func (s *Server) Publish(account, group, stream string, events []store.Event) {
	s.tail.publish(account, group, stream, events, s.Now().UnixMilli())
}
