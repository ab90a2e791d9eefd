// Command dbinit is a stand-in for Smart Check's db-init init container, used by the
// test suite to record what real PostgreSQL drivers print when the database cannot be
// reached. Like db-init it takes its settings from PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGSSLMODE, PGSSLROOTCERT and PGCONNECT_TIMEOUT (read by the driver itself), connects
// to the maintenance database (first argument, default "postgres") through
// database/sql, pings once, and on failure logs the error in both forms db-init uses:
// a JSON line and the plain "Error: ..." line. It exits 1 on failure.
//
// The driver is chosen at build time: -tags pq (github.com/lib/pq) or -tags pgx
// (github.com/jackc/pgx/v4/stdlib).
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func logLine(fields map[string]interface{}) {
	fields["component"] = "db-init"
	fields["timestamp"] = time.Now().UTC()
	b, err := json.Marshal(fields)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(string(b))
}

func main() {
	dbname := "postgres"
	if len(os.Args) > 1 {
		dbname = os.Args[1]
	}
	logLine(map[string]interface{}{"message": "Starting up", "severity": "audit", "driver": driverName})
	err := connect(dbname)
	if err != nil {
		logLine(map[string]interface{}{
			"error":    err.Error(),
			"message":  "could not get database connection",
			"severity": "info",
		})
		fmt.Fprintf(os.Stderr, "Error: could not set up database: database not available: could not get database connection: %s\n", err)
		os.Exit(1)
	}
	logLine(map[string]interface{}{"message": "database connection established", "severity": "info"})
}

func connect(dbname string) error {
	// The driver reads the PG* variables; only the database is given here.
	db, err := sql.Open(driverName, "dbname="+dbname)
	if err != nil {
		return err
	}
	defer db.Close()
	// A safety net for the test suite only: well above PGCONNECT_TIMEOUT.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}
