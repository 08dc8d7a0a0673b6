package hosts_test

import (
	"errors"
	"fmt"

	"github.com/mke-migrate/mke-migrate/hosts"
)

func ExampleParse() {
	data := []byte(`hosts:
  - address: 10.0.0.11
    keyPath: ~/.ssh/id_rsa
    role: manager
  - address: 10.0.0.21
    port: 2222
    user: ubuntu
    bastion: {address: jump.example.com}
`)
	f, err := hosts.Parse("hosts.yaml", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range f.Hosts {
		fmt.Printf("line %d: %s@%s role=%q key=%s\n", h.Line, h.User, h, h.Role, h.KeyFile("/home/ops"))
		if h.Bastion != nil {
			fmt.Printf("  via %s@%s:%d\n", h.Bastion.User, h.Bastion.Address, h.Bastion.Port)
		}
	}

	// A misspelt field is reported with the file and the line.
	_, err = hosts.Parse("hosts.yaml", []byte("hosts:\n  - adress: 10.0.0.11\n"))
	var ce *hosts.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.File, ce.Line)
	}
	fmt.Println(err)
	// Output:
	// line 2: root@10.0.0.11:22 role="manager" key=/home/ops/.ssh/id_rsa
	// line 5: ubuntu@10.0.0.21:2222 role="" key=
	//   via root@jump.example.com:22
	// hosts.yaml 2
	// hosts.yaml:2: unknown field "adress" (fields: address, port, user, keyPath, privateAddress, privateInterface, bastion, role, labels)
}
