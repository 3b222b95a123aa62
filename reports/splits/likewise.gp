# Drawn by scripts/plot-splits.py; render with: gnuplot likewise.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'likewise.svg'
set title 'likewise split (groups 068|2357|149): test accuracy against skew' noenhanced
set xlabel 'setting (0: uniform ... 5: fully skewed)'
set ylabel 'test accuracy (%)'
set yrange [20:100]
set xtics 1
set grid lc rgb '#dddddd'
set key left bottom noenhanced
plot 'likewise.dat' using 1:2 with linespoints lw 1.5 pt 4 lc rgb '#1f77b4' title 'member 0', \
     'likewise.dat' using 1:3 with linespoints lw 1.5 pt 5 lc rgb '#d62728' title 'member 1', \
     'likewise.dat' using 1:4 with linespoints lw 1.5 pt 6 lc rgb '#2ca02c' title 'member 2', \
     'likewise.dat' using 1:5 with linespoints lw 3 pt 7 lc rgb '#000000' title 'ensemble (mean of scores)'
