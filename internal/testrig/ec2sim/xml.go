package ec2sim

import (
	"encoding/xml"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// namespace is the EC2 API version's XML namespace, which every EC2
// response document carries.
const namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// timeFormat is how EC2 writes timestamps (ISO 8601, UTC, milliseconds).
const timeFormat = "2006-01-02T15:04:05.000Z"

// response is an XML response document; head is embedded in each.
type response interface{ setHead(requestID string) }

// head is what every EC2 response document starts with.
type head struct {
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
}

func (h *head) setHead(id string) { h.Xmlns, h.RequestID = namespace, id }

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func tagsXML(tags []ec2types.Tag) []tagXML {
	out := make([]tagXML, len(tags))
	for i, t := range tags {
		out[i] = tagXML{aws.ToString(t.Key), aws.ToString(t.Value)}
	}
	return out
}

func timeXML(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func writeXML(w http.ResponseWriter, doc response) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(doc)
}
