package pgwire

import (
	"os"
	"testing"

	"github.com/ankaflow/ankaflow/internal/testenv"
)

// jdbcJar is Debian's pgjdbc (libpostgresql-jdbc-java, 42.5.5 on Debian 12).
const jdbcJar = "/usr/share/java/postgresql.jar"

func TestJDBCClient(t *testing.T) {
	java := needProgram(t, "java (JDK 17, Debian default-jdk-headless)", "java")
	if _, err := os.Stat(jdbcJar); err != nil {
		testenv.Missing(t, jdbcJar+" not found: pgjdbc comes with the Debian package libpostgresql-jdbc-java")
	}
	// Java 17's single-source launcher compiles and runs Client.java in one step.
	testClient(t, clientDir(t, "jdbc"), java, "-cp", jdbcJar, "Client.java")
}

// pgjdbc's DatabaseMetaData (getSchemas, getTables, getColumns, getPrimaryKeys, getImportedKeys,
// getExportedKeys, getIndexInfo) and ResultSetMetaData give what they give against PostgreSQL.
func TestJDBCDatabaseMetaData(t *testing.T) {
	java := needProgram(t, "java (JDK 17, Debian default-jdk-headless)", "java")
	if _, err := os.Stat(jdbcJar); err != nil {
		testenv.Missing(t, jdbcJar+" not found: pgjdbc comes with the Debian package libpostgresql-jdbc-java")
	}
	testClient(t, clientDir(t, "jdbcmeta"), java, "-cp", jdbcJar, "Client.java")
}
