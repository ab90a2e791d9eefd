//go:build pq

package main

import _ "github.com/lib/pq"

const driverName = "postgres"
