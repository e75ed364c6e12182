// Renders an Ollama Modelfile TEMPLATE the way Ollama does: Go's text/template over .Messages
// (each with .Role and .Content) and .System. Reads {"template": ..., "messages": [...], "system": ...}
// as JSON on stdin and writes the rendered prompt to stdout. Used by tests/test_export.py.
package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type Request struct {
	Template string    `json:"template"`
	Messages []Message `json:"messages"`
	System   string    `json:"system"`
}

func main() {
	var req Request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	// What Ollama does with a Modelfile SYSTEM when the request has no system message.
	if req.System != "" && (len(req.Messages) == 0 || req.Messages[0].Role != "system") {
		req.Messages = append([]Message{{Role: "system", Content: req.System}}, req.Messages...)
	}
	tmpl := template.Must(template.New("modelfile").Option("missingkey=zero").Parse(req.Template))
	values := map[string]any{"Messages": req.Messages, "System": req.System}
	if err := tmpl.Execute(os.Stdout, values); err != nil {
		panic(err)
	}
}
