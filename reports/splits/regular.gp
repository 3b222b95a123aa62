# Drawn by hecnn; render with: gnuplot reports/splits/regular.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'reports/splits/regular.svg'
set title 'regular split: test accuracy by skew setting' noenhanced
set xlabel 'setting (0: uniform ... 5: fully skewed)' noenhanced
set ylabel 'test accuracy (%)' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set border lc rgb '#555555'
set yrange [23.000000:100.000000]
set style line 1 lc rgb '#1f77b4' lw 3 dt 1 pt 1
set style line 2 lc rgb '#d62728' lw 1.5 dt 1 pt 2
set style line 3 lc rgb '#2ca02c' lw 1.5 dt 1 pt 3
set style line 4 lc rgb '#ff7f0e' lw 1.5 dt 1 pt 4
plot 'reports/splits/regular.dat' index 0 using 1:2 with linespoints ls 1 title 'ensemble', \
     'reports/splits/regular.dat' index 1 using 1:2 with linespoints ls 2 title 'member 0 (012)', \
     'reports/splits/regular.dat' index 2 using 1:2 with linespoints ls 3 title 'member 1 (345)', \
     'reports/splits/regular.dat' index 3 using 1:2 with linespoints ls 4 title 'member 2 (6789)'
