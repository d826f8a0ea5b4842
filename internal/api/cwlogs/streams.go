package cwlogs

import (
	"context"
	"sort"
	"strings"
)

type streamIn struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
}

func (s *Server) createLogStream(ctx context.Context, id Identity, in *streamIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName, "logStreamName"); err != nil {
		return nil, err
	}
	if err := s.Store.CreateLogStream(id.Account, in.LogGroupName, in.LogStreamName); err != nil {
		return nil, storeErr(err, whichMissing(err))
	}
	return nil, nil
}

func (s *Server) deleteLogStream(ctx context.Context, id Identity, in *streamIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName, "logStreamName"); err != nil {
		return nil, err
	}
	err := s.Store.DeleteLogStream(id.Account, in.LogGroupName, in.LogStreamName)
	return nil, storeErr(err, whichMissing(err))
}

// whichMissing tells from a store error whether the group or the stream is
// the missing (or existing) resource: the store names the kind it failed on.
func whichMissing(err error) string {
	if err != nil && strings.Contains(err.Error(), "group") && !strings.Contains(err.Error(), "stream") {
		return "log group"
	}
	return "log stream"
}

type describeLogStreamsIn struct {
	LogGroupName        string `json:"logGroupName"`
	LogGroupIdentifier  string `json:"logGroupIdentifier"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	Limit               *int   `json:"limit"`
	NextToken           string `json:"nextToken"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken,omitempty"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOut struct {
	LogStreams []logStreamOut `json:"logStreams"`
	NextToken  string         `json:"nextToken,omitempty"`
}

func (s *Server) describeLogStreams(ctx context.Context, id Identity, in *describeLogStreamsIn) (any, error) {
	group, err := groupParam(id, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.LogStreamNamePrefix != "" {
		if err := checkStreamName(in.LogStreamNamePrefix, "logStreamNamePrefix"); err != nil {
			return nil, err
		}
	}
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.LogStreamNamePrefix != "" {
			return nil, invalidParam("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, validation(in.OrderBy, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	limit, err := checkLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	// Pages in name order continue after the last name listed ("n/<name>"),
	// so streams created between two pages neither repeat nor hide listed
	// ones; in LastEventTime order, which events reorder, by offset.
	offset, afterName := 0, ""
	if in.NextToken != "" {
		raw, err := decodeToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		if name, ok := strings.CutPrefix(raw, "n/"); ok && in.OrderBy != "LastEventTime" && checkStreamName(name, "nextToken") == nil {
			afterName = name
		} else if offset, err = decodeOffsetToken(in.NextToken); err != nil {
			return nil, err
		}
	}
	streams, err := s.Store.DescribeLogStreams(id.Account, group, in.LogStreamNamePrefix)
	if err != nil {
		return nil, storeErr(err, "log group")
	}
	less := func(i, j int) bool { return streams[i].Name < streams[j].Name }
	if in.OrderBy == "LastEventTime" {
		less = func(i, j int) bool {
			if streams[i].LastEventTime != streams[j].LastEventTime {
				return streams[i].LastEventTime < streams[j].LastEventTime
			}
			return streams[i].Name < streams[j].Name
		}
	}
	sort.Slice(streams, less)
	if in.Descending {
		for i, j := 0, len(streams)-1; i < j; i, j = i+1, j-1 {
			streams[i], streams[j] = streams[j], streams[i]
		}
	}
	if afterName != "" {
		offset = sort.Search(len(streams), func(i int) bool {
			if in.Descending {
				return streams[i].Name < afterName
			}
			return streams[i].Name > afterName
		})
	}
	out := describeLogStreamsOut{LogStreams: []logStreamOut{}}
	for i := offset; i < len(streams) && len(out.LogStreams) < limit; i++ {
		st := streams[i]
		o := logStreamOut{LogStreamName: st.Name, CreationTime: st.CreationTime, Arn: st.ARN}
		if st.LastIngestionTime > 0 {
			f, l, li := st.FirstEventTime, st.LastEventTime, st.LastIngestionTime
			o.FirstEventTimestamp, o.LastEventTimestamp, o.LastIngestionTime = &f, &l, &li
		}
		out.LogStreams = append(out.LogStreams, o)
	}
	if offset+limit < len(streams) {
		out.NextToken = encodeOffsetToken(offset + limit)
		if in.OrderBy != "LastEventTime" {
			out.NextToken = encodeToken("n/" + out.LogStreams[len(out.LogStreams)-1].LogStreamName)
		}
	}
	return out, nil
}
