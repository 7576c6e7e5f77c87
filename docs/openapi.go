package docs

import (
	_ "embed"
	"sync"

	"sigs.k8s.io/yaml"
)

// OpenAPIYAML is docs/openapi.yaml as built into the binary: the one source
// of the API's description.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPIJSON returns the document as JSON (what GET /openapi.json serves),
// converted from OpenAPIYAML once.
func OpenAPIJSON() ([]byte, error) { return openAPIJSON() }

var openAPIJSON = sync.OnceValues(func() ([]byte, error) { return yaml.YAMLToJSON(OpenAPIYAML) })
