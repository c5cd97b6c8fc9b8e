// Package fakeec2 stands in for the two EC2 Query API actions that packer/imdsv2 calls,
// ModifyImageAttribute and DescribeImageAttribute (imdsSupport), so that tests drive the
// real AWS SDK against a local HTTP endpoint. It speaks the EC2 wire format (form-encoded
// requests, XML responses and errors) for those actions and nothing else.
package fakeec2

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sync"
)

// Call is one request the server received.
type Call struct {
	Action  string
	ImageID string
	// Value is ImdsSupport.Value for ModifyImageAttribute, Attribute for
	// DescribeImageAttribute.
	Value string
}

// Server is an http.Handler holding a set of AMIs and their ImdsSupport attribute.
type Server struct {
	mu     sync.Mutex
	images map[string]string
	calls  []Call
	// dropModify makes ModifyImageAttribute succeed without changing anything.
	dropModify bool
}

// New returns a server that knows the given AMI ids, none of them requiring IMDSv2.
func New(amis ...string) *Server {
	s := &Server{images: make(map[string]string)}
	for _, a := range amis {
		s.images[a] = ""
	}
	return s
}

// DropModify makes ModifyImageAttribute answer success while leaving the AMI unchanged,
// the failure a read-back has to catch.
func (s *Server) DropModify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropModify = true
}

// Calls returns the requests received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ImdsSupport returns the AMI's ImdsSupport value ("" when unset).
func (s *Server) ImdsSupport(ami string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.images[ami]
}

const xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/"

type modifyResponse struct {
	XMLName   xml.Name `xml:"ModifyImageAttributeResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Return    bool     `xml:"return"`
}

type describeResponse struct {
	XMLName     xml.Name `xml:"DescribeImageAttributeResponse"`
	Xmlns       string   `xml:"xmlns,attr"`
	RequestID   string   `xml:"requestId"`
	ImageID     string   `xml:"imageId"`
	ImdsSupport *value   `xml:"imdsSupport,omitempty"`
}

type value struct {
	Value string `xml:"value"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Errors    []apiErr `xml:"Errors>Error"`
	RequestID string   `xml:"RequestID"`
}

type apiErr struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// ServeHTTP answers one EC2 Query API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action, ami := r.PostForm.Get("Action"), r.PostForm.Get("ImageId")

	s.mu.Lock()
	defer s.mu.Unlock()
	switch action {
	case "ModifyImageAttribute":
		v := r.PostForm.Get("ImdsSupport.Value")
		s.calls = append(s.calls, Call{Action: action, ImageID: ami, Value: v})
		if _, ok := s.images[ami]; !ok {
			writeError(w, http.StatusBadRequest, "InvalidAMIID.NotFound", fmt.Sprintf("The image id '[%s]' does not exist", ami))
			return
		}
		if v != "v2.0" {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Value (%s) for parameter imdsSupport is invalid.", v))
			return
		}
		if !s.dropModify {
			s.images[ami] = v
		}
		writeXML(w, modifyResponse{Xmlns: xmlns, RequestID: "fake-request", Return: true})
	case "DescribeImageAttribute":
		attr := r.PostForm.Get("Attribute")
		s.calls = append(s.calls, Call{Action: action, ImageID: ami, Value: attr})
		cur, ok := s.images[ami]
		if !ok {
			writeError(w, http.StatusBadRequest, "InvalidAMIID.NotFound", fmt.Sprintf("The image id '[%s]' does not exist", ami))
			return
		}
		if attr != "imdsSupport" {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Value (%s) for parameter attribute is invalid.", attr))
			return
		}
		resp := describeResponse{Xmlns: xmlns, RequestID: "fake-request", ImageID: ami}
		if cur != "" {
			resp.ImdsSupport = &value{Value: cur}
		}
		writeXML(w, resp)
	default:
		s.calls = append(s.calls, Call{Action: action, ImageID: ami})
		writeError(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action))
	}
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	b, _ := xml.Marshal(errorResponse{Errors: []apiErr{{Code: code, Message: msg}}, RequestID: "fake-request"})
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
