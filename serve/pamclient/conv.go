package pamclient

import (
	"errors"
	"sync"
)

// Prompt is one question the PAM stack asked through the conversation.
type Prompt struct {
	Text string `json:"prompt"`
	Echo bool   `json:"echo"` // PAM_PROMPT_ECHO_ON: the answer may be shown
}

// Message is a PAM_TEXT_INFO or PAM_ERROR_MSG the stack showed.
type Message struct {
	Text  string `json:"text"`
	Error bool   `json:"error"`
}

// errNoAnswer makes the conversation fail (PAM_CONV_ERR): the stack asked
// something the request carries no answer for, or the request is over.
var errNoAnswer = errors.New("no answer for this prompt")

// conversation answers one transaction's prompts from what the request
// carries, never waiting for anyone: the password answers the first
// echo-off prompt, and every other prompt (echo-off or echo-on, before or
// after it) takes the next of answers, in order. A prompt left without an
// answer fails the conversation and is kept as the challenge: the client
// asks again with the password and one answer more. Info and error
// messages are collected for the client.
//
// It is called from libpam's thread while the request may have given up
// (closed): from then on every prompt is refused at once, so a stack that
// keeps asking ends soon.
type conversation struct {
	mu         sync.Mutex
	password   []byte
	answers    [][]byte
	next       int  // the next of answers to give
	used       bool // the password was given
	closed     bool
	prompts    []Prompt // the prompts answered from answers, and the one that was not
	messages   []Message
	unanswered bool // the last of prompts had no answer
}

func newConversation(password []byte, answers [][]byte) *conversation {
	return &conversation{password: password, answers: answers}
}

// respond answers one message. echoOff and echoOn are prompts; info and
// errorMsg are messages. Strings are what libpam needs (it copies them to
// C memory); the secrets stay []byte until then.
func (c *conversation) respond(kind msgKind, text string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", errNoAnswer
	}
	switch kind {
	case info, errorMsg:
		if len(c.messages) < maxMessages {
			c.messages = append(c.messages, Message{Text: text, Error: kind == errorMsg})
		}
		return "", nil
	case echoOff, echoOn:
	default:
		return "", errNoAnswer // binary prompts: nothing here can answer them
	}
	if kind == echoOff && !c.used {
		c.used = true
		return string(c.password), nil
	}
	if len(c.prompts) >= maxPrompts {
		return "", errNoAnswer
	}
	c.prompts = append(c.prompts, Prompt{Text: text, Echo: kind == echoOn})
	if c.next >= len(c.answers) {
		c.unanswered = true
		return "", errNoAnswer
	}
	a := c.answers[c.next]
	c.next++
	return string(a), nil
}

// close refuses every later prompt and zeroes the secrets. Go strings
// already handed to libpam cannot be zeroed; libpam's copy is its own
// (pam_end overwrites the authtok it keeps).
func (c *conversation) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	zero(c.password)
	for _, a := range c.answers {
		zero(a)
	}
}

// challenge is the prompts the client must answer next time, when the
// last prompt had no answer; nil otherwise.
func (c *conversation) challenge() []Prompt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.unanswered {
		return nil
	}
	return append([]Prompt(nil), c.prompts...)
}

func (c *conversation) collected() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.messages...)
}

// Bounds on what one transaction may make the service keep.
const (
	maxMessages = 32
	maxPrompts  = 8
)

type msgKind int

const (
	echoOff msgKind = iota
	echoOn
	errorMsg
	info
	binary
)

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
