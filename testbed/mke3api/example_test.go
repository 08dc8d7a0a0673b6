package mke3api_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// Example starts a simulator with two users and an org, logs in and lists
// the accounts one page at a time.
func Example() {
	sim, err := mke3api.Start(mke3api.Options{Seed: mke3api.Seed{
		Version: "3.8.8",
		Admin:   mke3api.Credentials{Username: "admin", Password: "orcaorca"},
		Users:   []mke3api.User{{Name: "alice"}, {Name: "bob", IsActive: new(false)}},
		Orgs:    []mke3api.Org{{Name: "dev", Teams: []mke3api.Team{{Name: "web", Members: []mke3api.TeamMember{{Name: "alice"}}}}}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	client := sim.Client() // trusts sim.CAPEM

	res, err := client.Post(sim.URL+"/auth/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"orcaorca"}`))
	if err != nil {
		log.Fatal(err)
	}
	var login struct {
		AuthToken string `json:"auth_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	if err != nil {
		log.Fatal(err)
	}

	start := ""
	for {
		req, _ := http.NewRequest(http.MethodGet, sim.URL+"/enzi/v0/accounts?limit=2&start="+start, nil)
		req.Header.Set("Authorization", "Bearer "+login.AuthToken)
		res, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		var page struct {
			Accounts []struct {
				Name     string `json:"name"`
				IsOrg    bool   `json:"isOrg"`
				IsActive bool   `json:"isActive"`
			} `json:"accounts"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		for _, a := range page.Accounts {
			fmt.Printf("%s org=%t active=%t\n", a.Name, a.IsOrg, a.IsActive)
		}
		if start = res.Header.Get("X-Next-Page-Start"); start == "" {
			break
		}
		fmt.Println("-- next page starts at", start)
	}
	// Output:
	// admin org=false active=true
	// alice org=false active=true
	// -- next page starts at bob
	// bob org=false active=false
	// dev org=true active=true
}
