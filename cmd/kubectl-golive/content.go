package main

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/configdiff"
)

// The comparison with production lives in internal/configdiff, shared with the console.
type productionConfig = configdiff.Production

func readProductionConfig(ctx context.Context, c client.Reader, request *golivev1alpha1.UpdateRequest) []productionConfig {
	return configdiff.ReadProduction(ctx, c, request)
}

func configLines(request *golivev1alpha1.UpdateRequest, current []productionConfig) []string {
	return configdiff.Lines(request, current)
}

// migrationLines are the results of the migrations in each environment that ran them.
func migrationLines(request *golivev1alpha1.UpdateRequest) []string {
	var lines []string
	for _, env := range []struct {
		name   string
		record *golivev1alpha1.EnvironmentStatus
	}{{"staging", request.Status.Staging}, {"production", request.Status.Production}} {
		if env.record == nil {
			continue
		}
		for _, result := range env.record.Migrations {
			lines = append(lines, fmt.Sprintf("%-10s %s", env.name, checkText(result)))
		}
	}
	return lines
}
