package filterpattern_test

import (
	"errors"
	"fmt"

	"github.com/mailtrail/mailtrail/internal/filterpattern"
)

func Example() {
	p, err := filterpattern.Compile(`{ $.auth_successful IS FALSE && $.protocol = "ActiveSync" }`)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Kind(), p.Match([]byte(`{"user":"jane.doe@example.com","protocol":"ActiveSync","auth_successful":false}`)))
	// Output: json true
}

func ExampleCompile_error() {
	_, err := filterpattern.Compile(`{ $.latency > fast }`)
	var pe *filterpattern.Error
	fmt.Println(errors.As(err, &pe), pe.Offset)
	fmt.Println(err)
	// Output:
	// true 14
	// invalid filter pattern at character 14: operator > needs a number, found "fast"
}

func ExamplePattern_Extract() {
	p := filterpattern.MustCompile(`[ip, user, username, timestamp, request, status_code = 4*, bytes]`)
	value, _ := p.Selector("$bytes")
	status, _ := p.Selector("$status_code")
	ok, vals := p.Extract([]byte(`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /x HTTP/1.0" 404 1534`),
		[]filterpattern.Selector{value, status}, nil)
	n, _ := vals[0].Number()
	fmt.Println(ok, n, vals[1].Value)
	// Output: true 1534 404
}
